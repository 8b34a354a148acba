//! `pathway refer`: send a referral from a JSON file to intake, as the
//! board's referrer; [`send`] is also how the demo sends its referrals.

use std::io::Write;

use anyhow::Context;
use pathway_common::auth::Role;
use serde_json::Value;

use crate::args::ReferArgs;
use crate::client::{Client, ClientError, Reply, Service};

pub async fn run(client: &Client, args: ReferArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let file = &args.file;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let body: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let answer = send(client, &body, args.idempotency_key.as_deref())
        .await?
        .require(201)?;
    let id = answer["id"].as_str().unwrap_or("?");
    writeln!(
        out,
        "referral {id} received for {}: {} (route: {})",
        answer["board"].as_str().unwrap_or("?"),
        answer["status"].as_str().unwrap_or("?"),
        answer["route"].as_str().unwrap_or("?")
    )?;
    writeln!(out, "follow it with: pathway status {id}")?;
    Ok(())
}

/// POST `body` to intake as a referrer of its board; with an idempotency
/// key a retry gets the first answer back.
pub async fn send(
    client: &Client,
    body: &Value,
    idempotency_key: Option<&str>,
) -> Result<Reply, ClientError> {
    let board = body["board"].as_str().unwrap_or("highland");
    let token = client.token_for(Role::Referrer, board, "cli-referrer")?;
    let mut call = client
        .post(Service::Intake, "/v1/referrals")?
        .bearer(&token)
        .json(body);
    if let Some(key) = idempotency_key {
        call = call.header("Idempotency-Key", key);
    }
    call.send().await
}
