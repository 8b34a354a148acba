//! `pathway deliveries`: what the notification service sent, asked for as a
//! board admin: a board's deliveries, one referral's, and a failed one sent
//! again. The service answers a board's deliveries a page at a time (newest
//! first, with `next_before` while older ones follow); `list` follows every
//! page, so it prints them all.

use std::io::Write;

use pathway_common::auth::Role;
use serde_json::{Value, json};

use crate::args::DeliveriesAction;
use crate::client::{Client, Service};

pub async fn run(
    client: &Client,
    action: DeliveriesAction,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (call, board, json) = match &action {
        DeliveriesAction::List {
            status,
            board,
            json,
        } => {
            let board_or_all = board.as_deref().unwrap_or("*");
            let token = client.token_for(Role::BoardAdmin, board_or_all, "cli-board-admin")?;
            let answer = every_page(client, &token, status.as_deref(), board.as_deref()).await?;
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                print_table(out, &answer)?;
            }
            return Ok(());
        }
        DeliveriesAction::Show { referral_id, json } => {
            let path = format!("/v1/referrals/{referral_id}/deliveries");
            (client.get(Service::Notification, &path)?, "*", *json)
        }
        DeliveriesAction::Retry { id } => {
            let path = format!("/v1/deliveries/{id}/retry");
            (client.post(Service::Notification, &path)?, "*", false)
        }
    };
    let token = client.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
    let answer = call.bearer(&token).send().await?.require_success()?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        return Ok(());
    }
    if let DeliveriesAction::Retry { id } = action {
        writeln!(
            out,
            "delivery {id}: {}",
            answer["status"].as_str().unwrap_or("?")
        )?;
        return Ok(());
    }
    print_table(out, &answer)?;
    Ok(())
}

/// The deliveries the service lists (in `status`, of `board`), every page
/// of them, newest first, as one answer: `{"deliveries": [...]}`.
async fn every_page(
    client: &Client,
    token: &str,
    status: Option<&str>,
    board: Option<&str>,
) -> anyhow::Result<Value> {
    let mut deliveries = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut query = vec![("limit", PAGE.to_string())];
        if let Some(status) = status {
            query.push(("status", status.to_owned()));
        }
        if let Some(board) = board {
            query.push(("board", board.to_owned()));
        }
        if let Some(before) = &before {
            query.push(("before", before.clone()));
        }
        let answer = client
            .get(Service::Notification, "/v1/deliveries")?
            .query(&query)
            .bearer(token)
            .send()
            .await?
            .require_success()?;
        deliveries.extend(answer["deliveries"].as_array().cloned().unwrap_or_default());
        match answer["next_before"].as_str() {
            // A cursor that does not move would never end.
            Some(next) if before.as_deref() != Some(next) => before = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(json!({ "deliveries": deliveries }))
}

/// Deliveries asked for per page: the most the service gives.
const PAGE: u32 = 500;

fn print_table(out: &mut dyn Write, answer: &Value) -> std::io::Result<()> {
    let rows = answer["deliveries"]
        .as_array()
        .or(answer.as_array())
        .map_or(&[][..], Vec::as_slice);
    if rows.is_empty() {
        return writeln!(out, "no deliveries");
    }
    writeln!(
        out,
        "{:<36} {:<36} {:<17} {:<8} {:<8} {:>3}  last error",
        "delivery", "referral", "recipient", "channel", "status", "try"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<36} {:<36} {:<17} {:<8} {:<8} {:>3}  {}",
            row["id"].as_str().unwrap_or("?"),
            row["referral_id"].as_str().unwrap_or("?"),
            row["recipient"].as_str().unwrap_or("?"),
            row["channel"].as_str().unwrap_or("?"),
            row["status"].as_str().unwrap_or("?"),
            row["attempts"].as_i64().unwrap_or(0),
            row["last_error"].as_str().unwrap_or("")
        )?;
    }
    Ok(())
}
