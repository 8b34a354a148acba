//! `pathway status`: a referral as intake holds it (status, route, red
//! flags, history) and its decision from the decision service. The decision
//! is a bonus: when the decision service cannot say, the status still prints.

use std::io::Write;

use pathway_common::auth::Role;
use serde_json::Value;

use crate::args::StatusArgs;
use crate::client::{Client, ClientError, Service};
use crate::local_time;

pub async fn run(client: &Client, args: StatusArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let id = &args.id;
    // A clinician of every board may read any referral in development.
    let token = client.token_for(Role::Clinician, "*", "cli-clinician")?;
    let mut answer = client
        .get(Service::Intake, &format!("/v1/referrals/{id}"))?
        .bearer(&token)
        .send()
        .await?
        .require(200)?;
    let decision = fetch_decision(client, &token, id).await;
    if args.json {
        if let Ok(Some(decision)) = decision {
            answer["decision"] = decision;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        return Ok(());
    }
    print_status(out, &answer)?;
    match decision {
        Ok(Some(decision)) => print_decision(out, &decision)?,
        Ok(None) => writeln!(out, "decision:  none yet")?,
        Err(why) => writeln!(out, "decision:  unknown ({why})")?,
    }
    Ok(())
}

/// The referral's decision from the decision service; `None` before one is
/// recorded, and why not when the service cannot say.
async fn fetch_decision(client: &Client, token: &str, id: &str) -> Result<Option<Value>, String> {
    let path = format!("/v1/referrals/{id}/decision");
    let reply = match client.get(Service::Decision, &path) {
        Ok(call) => call.bearer(token).send().await,
        Err(error) => Err(error),
    };
    match reply {
        Ok(reply) if reply.status == 200 => serde_json::from_str(&reply.text)
            .map(Some)
            .map_err(|e| e.to_string()),
        Ok(reply) if reply.status == 404 => Ok(None),
        Ok(reply) => Err(format!("the decision service answered {}", reply.status)),
        Err(ClientError::Unreachable { base, .. }) => {
            Err(format!("the decision service does not answer at {base}"))
        }
        Err(error) => Err(error.to_string()),
    }
}

fn print_status(out: &mut dyn Write, answer: &Value) -> std::io::Result<()> {
    let text = |field: &str| answer[field].as_str().unwrap_or("?").to_owned();
    writeln!(out, "referral   {}", text("id"))?;
    writeln!(out, "board      {}", text("board"))?;
    writeln!(out, "status     {}", text("status"))?;
    writeln!(out, "route      {}", text("route"))?;
    writeln!(
        out,
        "received   {}",
        local_time::time_of(&answer["received_at"], "?")
    )?;
    if let Some(flags) = answer["referral"]["clinical"]["red_flags"]
        .as_array()
        .filter(|f| !f.is_empty())
    {
        let flags: Vec<&str> = flags.iter().filter_map(Value::as_str).collect();
        writeln!(out, "RED FLAGS  {}", flags.join(", "))?;
    }
    writeln!(out, "history:")?;
    for entry in answer["history"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {}  {:<28} -> {:<18} by {}",
            local_time::time_of(&entry["occurred_at"], "?"),
            entry["event"].as_str().unwrap_or("?"),
            entry["status"].as_str().unwrap_or("?"),
            entry["actor"].as_str().unwrap_or("?")
        )?;
    }
    Ok(())
}

fn print_decision(out: &mut dyn Write, answer: &Value) -> std::io::Result<()> {
    let current = &answer["current"];
    let outcome = &current["outcome"];
    writeln!(out, "decision:")?;
    writeln!(
        out,
        "  outcome     {}",
        outcome["label"]
            .as_str()
            .or(outcome["code"].as_str())
            .unwrap_or("?")
    )?;
    if let (Some(priority), Some(mode)) = (outcome["priority"].as_str(), outcome["mode"].as_str()) {
        writeln!(out, "  priority    {priority}, {}", mode.replace('_', " "))?;
    }
    for key in ["partner", "advice", "reason", "rejection_reason"] {
        if let Some(value) = outcome[key].as_str() {
            writeln!(out, "  {:<11} {value}", key.replace('_', " "))?;
        }
    }
    if let Some(target) = current["target_date"].as_str() {
        writeln!(out, "  target date {target}")?;
    }
    writeln!(
        out,
        "  by          {} at {}",
        current["clinician"].as_str().unwrap_or("?"),
        local_time::time_of(&current["decided_at"], "?")
    )?;
    writeln!(
        out,
        "  rationale   {}",
        current["rationale"].as_str().unwrap_or("")
    )?;
    if let Some(reason) = current["red_flag_override_reason"].as_str() {
        writeln!(out, "  RED FLAG OVERRIDE  {reason}")?;
    }
    let superseded = answer["superseded"].as_array().map_or(0, Vec::len);
    if superseded > 0 {
        writeln!(out, "  supersedes  {superseded} earlier decision(s)")?;
    }
    Ok(())
}
