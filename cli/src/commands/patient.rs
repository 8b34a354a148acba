//! `pathway patient`: a patient's requests about their data, as a board
//! admin. Intake acts first (it finds the patient's referrals and scrubs or
//! flags its own rows) and puts the request on the stream; for an erasure,
//! the command then asks vetting and notification for their part under the
//! request's id until each has reported or `--wait` runs out, and prints the
//! whole report.

use std::io::Write;
use std::time::{Duration, Instant};

use pathway_common::auth::Role;
use serde_json::{Value, json};

use crate::args::{PatientAction, PatientArgs};
use crate::client::{Client, Service};

/// How often to ask a service again for its part.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// The services besides intake that hold a patient's data.
const HOLDERS: [Service; 2] = [Service::Vetting, Service::Notification];

pub async fn run(
    client: &Client,
    action: PatientAction,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (kind, args) = match action {
        PatientAction::Erase(args) => ("erase", args),
        PatientAction::Restrict(args) => ("restrict", args),
        PatientAction::Lift(args) => ("lift", args),
        PatientAction::Erasure { id, board, json } => {
            let token = client.token_for(Role::BoardAdmin, &board, "cli-board-admin")?;
            let intake = client
                .get(
                    Service::Intake,
                    &format!("/v1/boards/{board}/patient-requests/{id}"),
                )?
                .bearer(&token)
                .send()
                .await?
                .require(200)?;
            let parts = parts_of(client, &token, &id, Duration::ZERO).await?;
            return print(out, &intake, &parts, json);
        }
    };
    act(client, kind, args, out).await
}

async fn act(
    client: &Client,
    kind: &str,
    args: PatientArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let token = client.token_for(Role::BoardAdmin, &args.board, "cli-board-admin")?;
    let intake = client
        .post(
            Service::Intake,
            &format!("/v1/boards/{}/patient-requests", args.board),
        )?
        .json(&json!({
            "kind": kind,
            "chi": args.chi,
            "referral_id": args.referral,
            "reason": args.reason,
        }))
        .bearer(&token)
        .send()
        .await?
        .require(201)?;
    let erased_now = kind == "erase" && intake["referrals"].as_u64().unwrap_or(0) > 0;
    let parts = if erased_now {
        let id = intake["id"].as_str().unwrap_or_default();
        parts_of(client, &token, id, Duration::from_secs(args.wait)).await?
    } else {
        Vec::new()
    };
    print(out, &intake, &parts, args.json)
}

/// Each holder's report of erasure `id`, asking again until it has one or
/// `wait` has passed; `None` for a holder that has not reported.
async fn parts_of(
    client: &Client,
    token: &str,
    id: &str,
    wait: Duration,
) -> anyhow::Result<Vec<(Service, Option<Value>)>> {
    let until = Instant::now() + wait;
    let mut parts = Vec::new();
    for service in HOLDERS {
        let path = format!("/v1/erasures/{id}");
        let part = loop {
            let reply = client.get(service, &path)?.bearer(token).send().await?;
            if reply.status == 404 && Instant::now() < until {
                tokio::time::sleep(POLL_EVERY).await;
                continue;
            }
            if reply.status == 404 {
                break None;
            }
            break Some(reply.require(200)?);
        };
        parts.push((service, part));
    }
    Ok(parts)
}

fn print(
    out: &mut dyn Write,
    intake: &Value,
    parts: &[(Service, Option<Value>)],
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let services: serde_json::Map<String, Value> = parts
            .iter()
            .map(|(service, part)| {
                (
                    name(*service).to_owned(),
                    part.clone().unwrap_or(Value::Null),
                )
            })
            .collect();
        let whole = json!({"intake": intake, "services": services});
        writeln!(out, "{}", serde_json::to_string_pretty(&whole)?)?;
        return Ok(());
    }
    let text = |key: &str| intake[key].as_str().unwrap_or("?").to_owned();
    let count = |key: &str| intake[key].as_u64().unwrap_or(0);
    writeln!(
        out,
        "{} request {} for {}",
        text("kind"),
        text("id"),
        text("board")
    )?;
    let referrals = intake["referral_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    writeln!(out, "  referrals: {}", referrals.len())?;
    for referral in &referrals {
        writeln!(out, "    {}", referral.as_str().unwrap_or("?"))?;
    }
    if text("kind") == "erase" {
        writeln!(
            out,
            "  intake: {} referral(s) emptied, {} answer(s), {} opt-in link(s), {} FHIR notification(s), {} idempotency key(s) removed",
            count("referrals"),
            count("information_requests"),
            count("opt_in_links"),
            count("fhir_notifications"),
            count("idempotency_keys"),
        )?;
        for (service, part) in parts {
            match part {
                Some(part) => writeln!(out, "  {}: {}", name(*service), removed(part))?,
                None => writeln!(
                    out,
                    "  {}: not reported yet (the request reaches it on the stream): see `pathway patient erasure {} --board {}`",
                    name(*service),
                    text("id"),
                    text("board"),
                )?,
            }
        }
        if !parts.is_empty() {
            writeln!(
                out,
                "  decision: holds no identifiable data; analytics: keeps the de-identified facts, which still count"
            )?;
        }
    }
    writeln!(out, "  {}", text("message"))?;
    Ok(())
}

/// A holder's report in a line: `3 clinical_texts, 1 outcomes`.
fn removed(part: &Value) -> String {
    let mut totals = std::collections::BTreeMap::<String, u64>::new();
    for referral in part["referrals"].as_array().into_iter().flatten() {
        for (kind, n) in referral["removed"].as_object().into_iter().flatten() {
            *totals.entry(kind.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    let words: Vec<String> = totals
        .iter()
        .map(|(kind, n)| format!("{n} {}", kind.replace('_', " ")))
        .collect();
    if words.is_empty() {
        "nothing held".to_owned()
    } else {
        words.join(", ")
    }
}

fn name(service: Service) -> &'static str {
    match service {
        Service::Intake => "intake",
        Service::Vetting => "vetting",
        Service::Decision => "decision",
        Service::Notification => "notification",
        Service::Analytics => "analytics",
    }
}
