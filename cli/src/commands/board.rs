//! `pathway board`: switch the remote pathway on or off for a board, list
//! the boards, and show or replace a board's settings, all through intake's
//! board admin API as a board admin. [`switch`] is also how the demo
//! switches its boards on.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use pathway_common::auth::Role;
use serde_json::{Value, json};

use crate::args::BoardAction;
use crate::client::{Client, ClientError, Reply, Service};
use crate::local_time;

const ADMIN: &str = "cli-board-admin";

pub async fn run(
    client: &Client,
    action: BoardAction,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    match action {
        BoardAction::List => list(client, out).await,
        BoardAction::Enable {
            board,
            from,
            reason,
        } => switched(client, &board, true, from, reason, out).await,
        BoardAction::Disable {
            board,
            from,
            reason,
        } => switched(client, &board, false, from, reason, out).await,
        BoardAction::Settings {
            board,
            file: Some(file),
            from,
            ..
        } => set_settings(client, &board, &file, from.as_deref(), out).await,
        BoardAction::Settings {
            board,
            file: None,
            history,
            ..
        } => show_settings(client, &board, history, out, err).await,
    }
}

async fn list(client: &Client, out: &mut dyn Write) -> anyhow::Result<()> {
    let token = client.token_for(Role::BoardAdmin, "*", ADMIN)?;
    let answer = client
        .get(Service::Intake, "/v1/boards")?
        .bearer(&token)
        .send()
        .await?
        .require(200)?;
    writeln!(out, "{:<24} {:<32} {:<8} since", "code", "name", "pathway")?;
    for board in answer.as_array().into_iter().flatten() {
        writeln!(
            out,
            "{:<24} {:<32} {:<8} {}",
            board["code"].as_str().unwrap_or("?"),
            board["name"].as_str().unwrap_or("?"),
            on_off(&board["pathway_enabled"]),
            board["since"].as_str().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// PUT the pathway switch of `board`, from `from` (today when `None`).
pub async fn switch(
    client: &Client,
    board: &str,
    enabled: bool,
    from: Option<&str>,
    reason: Option<&str>,
) -> Result<Reply, ClientError> {
    let token = client.token_for(Role::BoardAdmin, board, ADMIN)?;
    client
        .put(Service::Intake, &format!("/v1/boards/{board}/pathway"))?
        .bearer(&token)
        .json(&json!({"enabled": enabled, "effective_date": from, "reason": reason}))
        .send()
        .await
}

/// `enable` and `disable`: switch, then say what is in force now.
async fn switched(
    client: &Client,
    board: &str,
    enabled: bool,
    from: Option<String>,
    reason: Option<String>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let answer = switch(client, board, enabled, from.as_deref(), reason.as_deref())
        .await?
        .require(200)?;
    writeln!(
        out,
        "{}: remote pathway {} from {} (now {})",
        answer["name"].as_str().unwrap_or(board),
        if enabled { "on" } else { "off" },
        from.as_deref().unwrap_or("today"),
        on_off(&answer["pathway_enabled"])
    )?;
    Ok(())
}

fn on_off(enabled: &Value) -> &'static str {
    if *enabled == true { "on" } else { "off" }
}

/// GET a board's settings: the document alone on `out`, where it came from
/// (and with `history`, every change) on `err`.
async fn show_settings(
    client: &Client,
    board: &str,
    history: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let token = client.token_for(Role::BoardAdmin, board, ADMIN)?;
    let answer = client
        .get(Service::Intake, &format!("/v1/boards/{board}/settings"))?
        .bearer(&token)
        .send()
        .await?
        .require(200)
        .map_err(|error| settings_failure(error, board))?;
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&answer["settings"])?
    )?;
    if answer["defaults"] == true {
        writeln!(
            err,
            "{board} uses the defaults: it has never stored settings of its own"
        )?;
    } else {
        writeln!(
            err,
            "{board}: settings stored by {} at {}, in force from {}",
            answer["changed_by"].as_str().unwrap_or("?"),
            local_time::time_of(&answer["changed_at"], "?"),
            answer["effective_from"].as_str().unwrap_or("?")
        )?;
    }
    if history {
        for change in answer["changes"].as_array().into_iter().flatten() {
            writeln!(
                err,
                "  {}  from {}  by {:<24} vetting target {} working days",
                local_time::time_of(&change["changed_at"], "?"),
                change["effective_from"].as_str().unwrap_or("?"),
                change["changed_by"].as_str().unwrap_or("?"),
                change["settings"]["vetting_target_working_days"]
            )?;
        }
    }
    Ok(())
}

/// PUT the document in `file` as a board's settings, in force from the
/// Scottish day `from` (today when `None`).
async fn set_settings(
    client: &Client,
    board: &str,
    file: &Path,
    from: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    // A day is digits and dashes, so it goes into the query as it is.
    let query = match from {
        None => String::new(),
        Some(day) => match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(_) => format!("?effective_from={day}"),
            Err(_) => bail!("--from {day:?} is not a day: give it as YYYY-MM-DD"),
        },
    };
    let text = std::fs::read_to_string(file).with_context(|| {
        format!(
            "cannot read {}: give the path of a settings document (examples/board-settings.json is one)",
            file.display()
        )
    })?;
    // Catch a broken file here, with its line, before asking intake.
    if let Err(error) = serde_json::from_str::<Value>(&text) {
        bail!(
            "{} is not JSON ({error}): fix it and run this again",
            file.display()
        );
    }
    let token = client.token_for(Role::BoardAdmin, board, ADMIN)?;
    let answer = client
        .put(
            Service::Intake,
            &format!("/v1/boards/{board}/settings{query}"),
        )?
        .bearer(&token)
        .body("application/json", text)
        .send()
        .await?
        .require(200)
        .map_err(|error| settings_failure(error, board))
        .with_context(|| {
            format!(
                "nothing was changed; correct {} and run this again",
                file.display()
            )
        })?;
    let stored = answer["changes"]
        .as_array()
        .and_then(|changes| changes.last())
        .unwrap_or(&Value::Null);
    let effective = stored["effective_from"].as_str().unwrap_or("?");
    let when = if answer["effective_from"].as_str() == Some(effective) {
        "in force now for every service".to_owned()
    } else {
        format!("in force from {effective} (a Scottish day) for every service")
    };
    writeln!(
        out,
        "{}: settings stored (vetting target {} working days), {when}",
        answer["name"].as_str().unwrap_or(board),
        stored["settings"]["vetting_target_working_days"]
    )?;
    writeln!(out, "see them with: pathway board settings {board}")?;
    Ok(())
}

/// Intake's refusal, with what to do about it.
fn settings_failure(error: ClientError, board: &str) -> anyhow::Error {
    let hint = match &error {
        ClientError::Refused { status: 401, .. } => {
            "the token was refused: pass a current one with --token, or unset it to use a development token"
        }
        ClientError::Refused { status: 403, .. } => {
            "this needs a board_admin token for this board (a clinician's may read): pass one with --token"
        }
        ClientError::Refused { status: 404, .. } => {
            "no such board: `pathway board list` shows the 14 codes"
        }
        _ => return error.into(),
    };
    anyhow::anyhow!("{error}\n{hint} ({board})")
}
