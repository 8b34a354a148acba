//! `pathway dead-letters`: what the services' consumers refused, asked for
//! as a board admin for every board (dead letters cross boards): a list,
//! newest first, from one service or all five, one dead letter in full
//! (never its payload bytes: the services do not return them), and replays
//! of one or all.

use std::io::Write;

use pathway_common::auth::Role;
use serde_json::{Value, json};

use crate::args::{DeadLetterService, DeadLettersAction};
use crate::client::{Client, Service};
use crate::local_time;

/// The widest reason the table prints; `show` prints it whole.
const REASON_WIDTH: usize = 60;

pub async fn run(
    client: &Client,
    action: DeadLettersAction,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let token = client.token_for(Role::BoardAdmin, "*", "cli-board-admin")?;
    match action {
        DeadLettersAction::List {
            service,
            limit,
            json,
        } => {
            let mut rows = Vec::new();
            let mut next_before = None;
            for service in services(service) {
                let answer = client
                    .get(service, "/v1/dead-letters")?
                    .query(&[("limit", limit.to_string())])
                    .bearer(&token)
                    .send()
                    .await?
                    .require_success()?;
                next_before = answer["next_before"].as_str().map(str::to_owned);
                for mut row in answer["dead_letters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    row["service"] = json!(name(service));
                    rows.push(row);
                }
            }
            // Newest first across services; the ids are UUIDv7, so time-ordered.
            rows.sort_by(|a, b| {
                (b["dead_at"].as_str(), b["id"].as_str())
                    .cmp(&(a["dead_at"].as_str(), a["id"].as_str()))
            });
            rows.truncate(usize::from(limit));
            if json {
                let mut answer = json!({ "dead_letters": rows });
                // A page boundary means something in one service only.
                if let ([_], Some(next)) = (services(service).as_slice(), next_before) {
                    answer["next_before"] = json!(next);
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                print_table(out, &rows)?;
            }
        }
        DeadLettersAction::Show { id, service, json } => {
            let mut found = None;
            for service in services(service) {
                let path = format!("/v1/dead-letters/{id}");
                let reply = client.get(service, &path)?.bearer(&token).send().await?;
                if reply.status == 404 {
                    continue;
                }
                let mut row = reply.require_success()?;
                row["service"] = json!(name(service));
                found = Some(row);
                break;
            }
            let Some(row) = found else {
                anyhow::bail!("no dead letter {id} in {}", where_(service));
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&row)?)?;
            } else {
                print_one(out, &row)?;
            }
        }
        DeadLettersAction::Replay {
            id: Some(id),
            service,
            json,
            ..
        } => {
            let mut found = None;
            for service in services(service) {
                let path = format!("/v1/dead-letters/{id}/replay");
                let reply = client.post(service, &path)?.bearer(&token).send().await?;
                if reply.status == 404 {
                    continue;
                }
                let mut row = reply.require_success()?;
                row["service"] = json!(name(service));
                found = Some(row);
                break;
            }
            let Some(row) = found else {
                anyhow::bail!("no dead letter {id} in {}", where_(service));
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&row)?)?;
            } else {
                print_replayed(out, &row)?;
            }
        }
        DeadLettersAction::Replay {
            id: None,
            service,
            consumer,
            json,
            ..
        } => {
            let mut replayed = Vec::new();
            let mut skipped = Vec::new();
            for service in services(service) {
                let mut call = client.post(service, "/v1/dead-letters/replay")?;
                if let Some(consumer) = &consumer {
                    call = call.query(&[("consumer", consumer.clone())]);
                }
                let answer = call.bearer(&token).send().await?.require_success()?;
                for (key, into) in [("replayed", &mut replayed), ("skipped", &mut skipped)] {
                    for mut row in answer[key].as_array().cloned().unwrap_or_default() {
                        row["service"] = json!(name(service));
                        into.push(row);
                    }
                }
            }
            if json {
                let answer = json!({ "replayed": replayed, "skipped": skipped });
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                for row in &replayed {
                    print_replayed(out, row)?;
                }
                for row in &skipped {
                    writeln!(
                        out,
                        "skipped {} ({}): {}",
                        row["id"].as_str().unwrap_or("?"),
                        row["service"].as_str().unwrap_or("?"),
                        row["reason"].as_str().unwrap_or("")
                    )?;
                }
                writeln!(
                    out,
                    "{} replayed, {} skipped",
                    replayed.len(),
                    skipped.len()
                )?;
            }
        }
    }
    Ok(())
}

fn print_replayed(out: &mut dyn Write, row: &Value) -> std::io::Result<()> {
    writeln!(
        out,
        "replayed {} ({}): consumer {}, message {}, {}",
        row["id"].as_str().unwrap_or("?"),
        row["service"].as_str().unwrap_or("?"),
        row["consumer"].as_str().unwrap_or("?"),
        row["message_id"].as_str().unwrap_or("?"),
        row["event_type"].as_str().unwrap_or("(undecodable)")
    )
}

fn services(choice: DeadLetterService) -> Vec<Service> {
    match choice {
        DeadLetterService::Intake => vec![Service::Intake],
        DeadLetterService::Vetting => vec![Service::Vetting],
        DeadLetterService::Decision => vec![Service::Decision],
        DeadLetterService::Notification => vec![Service::Notification],
        DeadLetterService::Analytics => vec![Service::Analytics],
        DeadLetterService::All => vec![
            Service::Intake,
            Service::Vetting,
            Service::Decision,
            Service::Notification,
            Service::Analytics,
        ],
    }
}

/// The service as `--service` names it.
fn name(service: Service) -> &'static str {
    match service {
        Service::Intake => "intake",
        Service::Vetting => "vetting",
        Service::Decision => "decision",
        Service::Notification => "notification",
        Service::Analytics => "analytics",
    }
}

fn where_(choice: DeadLetterService) -> String {
    match services(choice).as_slice() {
        [one] => name(*one).to_owned(),
        _ => "any service".to_owned(),
    }
}

/// A time on Scotland's clock, to the second, with its offset.
fn time(value: &Value) -> String {
    local_time::time_of(value, "")
}

fn truncated(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= width && line.len() == text.len() {
        line.to_owned()
    } else {
        let kept: String = line.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}

fn print_table(out: &mut dyn Write, rows: &[Value]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no dead letters");
    }
    writeln!(
        out,
        "{:<12} {:<36} {:<25} {:<14} {:<28} {:<12} reason",
        "service", "dead letter", "dead at", "consumer", "event", "board"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<12} {:<36} {:<25} {:<14} {:<28} {:<12} {}",
            row["service"].as_str().unwrap_or("?"),
            row["id"].as_str().unwrap_or("?"),
            time(&row["dead_at"]),
            row["consumer"].as_str().unwrap_or("?"),
            row["event_type"].as_str().unwrap_or("(undecodable)"),
            row["board"].as_str().unwrap_or("-"),
            truncated(row["reason"].as_str().unwrap_or(""), REASON_WIDTH)
        )?;
    }
    Ok(())
}

fn print_one(out: &mut dyn Write, row: &Value) -> std::io::Result<()> {
    let text = |key: &str| row[key].as_str().unwrap_or("-").to_owned();
    let lines = [
        ("dead letter", text("id")),
        ("service", text("service")),
        ("consumer", text("consumer")),
        ("dead at", time(&row["dead_at"])),
        (
            "deliveries",
            row["deliveries"].as_i64().unwrap_or(0).to_string(),
        ),
        (
            "replayed at",
            if row["replayed_at"].is_null() {
                "-".to_owned()
            } else {
                time(&row["replayed_at"])
            },
        ),
        ("subject", text("subject")),
        ("message id", text("message_id")),
        (
            "event",
            row["event_type"]
                .as_str()
                .unwrap_or("(the payload is not a Pathway event)")
                .to_owned(),
        ),
        ("board", text("board")),
        ("referral", text("referral_id")),
        (
            "occurred at",
            if row["occurred_at"].is_null() {
                "-".to_owned()
            } else {
                time(&row["occurred_at"])
            },
        ),
        ("reason", text("reason")),
    ];
    for (label, value) in lines {
        writeln!(out, "{:<12} {value}", format!("{label}:"))?;
    }
    Ok(())
}
