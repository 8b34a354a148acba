//! `pathway demo`: fill a running platform with a realistic picture across
//! several boards: the boards switch the pathway on at different dates, each
//! board's history before is imported into analytics as its baseline, live
//! referrals with invented patients go to intake, and a demo clinician vets
//! a share of them. Each board on the pathway also gets a history of demo
//! referrals from its switch-on up to yesterday ([`history`]), published
//! straight onto the stream as demo events only analytics takes in.
//!
//! [`referrals`] invents the patients and their referrals, [`baseline`] the
//! boards' histories, [`clinician`] what the demo clinician records; this
//! module runs the steps in order through the other commands' calls
//! (`board`, `analytics import`, `refer`).

pub mod baseline;
pub mod clinician;
pub mod history;
pub mod journey;
pub mod referrals;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pathway_common::auth::Role;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::args::DemoArgs;
use crate::client::{Client, Service};
use crate::commands::{analytics, board, refer};

/// When the `index`-th board switched the pathway on: 21 months ago, 18,
/// 15, then 12, on the first of the month, so that every board has a year
/// or more of history after its switch-on and some months before it within
/// the dashboard's two years.
pub fn switch_on_date(index: usize, today: NaiveDate) -> NaiveDate {
    let months = match index {
        0 => 21,
        1 => 18,
        2 => 15,
        _ => 12,
    };
    let first = today.with_day(1).unwrap_or(today);
    first
        .checked_sub_months(Months::new(months))
        .unwrap_or(first)
}

/// One live referral the demo sent that waits for vetting.
struct Sent {
    id: String,
    board: String,
    red_flags: bool,
}

pub async fn run(client: &Client, args: DemoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let boards = &args.boards;
    anyhow::ensure!(!boards.is_empty(), "name at least one board with --boards");
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.vet_share),
        "--vet must be between 0 and 1, e.g. 0.8"
    );
    for board in boards {
        pathway_intake::domain::BoardCode::parse(board).map_err(anyhow::Error::msg)?;
    }
    let mut rng = match args.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let today = pathway_proto::days::today();
    // Most boards on the pathway, each from a different date; the last one
    // not yet, so both routes show.
    let on = if boards.len() > 1 {
        boards.len() - 1
    } else {
        1
    };
    let mut adopted = Vec::new();
    for (index, board) in boards.iter().enumerate() {
        let since = (index < on).then(|| switch_on_date(index, today));
        if let Some(since) = since {
            let reply = board::switch(
                client,
                board,
                true,
                Some(&since.to_string()),
                Some("pathway demo"),
            )
            .await?;
            anyhow::ensure!(
                reply.status == 200,
                "cannot switch {board} on: {}",
                reply.json()
            );
            writeln!(out, "{board}: remote pathway on since {since}")?;
        } else {
            writeln!(out, "{board}: standard route (not on the pathway)")?;
        }
        adopted.push((board.clone(), since));
    }
    if args.baseline_months > 0 {
        import_baselines(client, &args, &adopted, today, &mut rng, out).await?;
    }
    if !args.no_history {
        let on: Vec<(String, NaiveDate)> = adopted
            .iter()
            .filter_map(|(board, since)| since.map(|since| (board.clone(), since)))
            .collect();
        history::publish(&args.nats_url, &on, today, &mut rng, out).await?;
    }
    let sent = send_referrals(client, &args, &mut rng, out).await?;
    if args.vet_share > 0.0 && !sent.is_empty() {
        vet(client, &args, &sent, &mut rng, out).await?;
    }
    let adopters: Vec<String> = adopted
        .iter()
        .filter(|(_, since)| since.is_some())
        .map(|(board, _)| format!("--board {board}"))
        .collect();
    writeln!(
        out,
        "\nSee the numbers: {}/dashboard (sign in with `pathway token --role evaluator --board '*'`),\n\
         or `pathway metrics {} --from {} --by quarter --split adoption`",
        client.base(Service::Analytics),
        adopters.join(" "),
        today
            .checked_sub_months(Months::new(args.baseline_months + 12))
            .unwrap_or(today)
            .with_day(1)
            .unwrap_or(today)
    )?;
    Ok(())
}

/// Each board's history before it adopted the pathway (up to today for a
/// board still on the standard route), through `pathway analytics import`.
async fn import_baselines(
    client: &Client,
    args: &DemoArgs,
    adopted: &[(String, Option<NaiveDate>)],
    today: NaiveDate,
    rng: &mut StdRng,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    for (board, since) in adopted {
        let until = since.unwrap_or(today);
        let from = until
            .checked_sub_months(Months::new(args.baseline_months))
            .unwrap_or(until);
        let (csv, rows) = baseline::csv(rng, board, from, until, today);
        let loaded = analytics::import(client, board, csv.into_bytes())
            .await
            .with_context(|| format!("cannot import {board}'s baseline into analytics"))?;
        anyhow::ensure!(
            loaded.loaded == rows as u64,
            "analytics loaded {} of {rows} baseline rows for {board}",
            loaded.loaded
        );
        writeln!(
            out,
            "{board}: {rows} referrals from {from} to {} imported as its baseline",
            until - chrono::Duration::days(1)
        )?;
    }
    Ok(())
}

/// Send `--referrals` invented referrals to the boards at random, a few at a
/// time; returns those waiting for vetting.
async fn send_referrals(
    client: &Client,
    args: &DemoArgs,
    rng: &mut StdRng,
    out: &mut dyn Write,
) -> anyhow::Result<Vec<Sent>> {
    let count = args.referrals;
    let bodies: Vec<Value> = (0..count)
        .map(|_| {
            let board = args
                .boards
                .choose(rng)
                .cloned()
                .unwrap_or_else(|| "highland".into());
            referrals::referral(rng, &board)
        })
        .collect();
    let bar = progress(count as u64, "referrals");
    let results: Vec<_> = futures::stream::iter(bodies.iter())
        .map(|body| {
            let bar = bar.clone();
            let red_flags = body["clinical"]["red_flags"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
            async move {
                let answer = refer::send(client, body, None).await;
                bar.inc(1);
                (red_flags, answer)
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut by_status = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    let mut sent = Vec::new();
    for (red_flags, result) in results {
        match result {
            Ok(reply) if reply.status == 201 => {
                let answer = reply.json();
                let status = answer["status"].as_str().unwrap_or("?").to_owned();
                if status == "awaiting_vetting" {
                    sent.push(Sent {
                        id: answer["id"].as_str().unwrap_or_default().to_owned(),
                        board: answer["board"].as_str().unwrap_or_default().to_owned(),
                        red_flags,
                    });
                }
                *by_status.entry(status).or_default() += 1
            }
            Ok(reply) => failures.push(format!(
                "{}: {}",
                reply.status,
                reply.json()["message"].as_str().unwrap_or("?")
            )),
            Err(error) => failures.push(format!("{:#}", anyhow::Error::from(error))),
        }
    }
    writeln!(out, "sent {count} referrals:")?;
    for (status, n) in &by_status {
        writeln!(out, "  {n:>6}  {status}")?;
    }
    if !failures.is_empty() {
        writeln!(out, "  {:>6}  refused", failures.len())?;
        for failure in failures.iter().take(5) {
            writeln!(out, "          {failure}")?;
        }
        anyhow::bail!("{} of {count} referrals were refused", failures.len());
    }
    Ok(sent)
}

/// The demo clinician, one per board, vets a share of the live referrals:
/// claims each (waiting for vetting to see it first) and records an outcome,
/// or asks the referrer a question.
async fn vet(
    client: &Client,
    args: &DemoArgs,
    sent: &[Sent],
    rng: &mut StdRng,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut chosen: Vec<(&Sent, Value, bool)> = Vec::new();
    for s in sent {
        if rng.random_bool(args.vet_share) {
            let ask = !s.red_flags && rng.random_bool(0.05);
            chosen.push((s, clinician::outcome(rng, s.red_flags), ask));
        }
    }
    if chosen.is_empty() {
        return Ok(());
    }
    let bar = progress(chosen.len() as u64, "vetted by the demo clinician");
    let mut tokens = BTreeMap::new();
    for (s, _, _) in &chosen {
        if !tokens.contains_key(&s.board) {
            let token = client.token_named(
                Role::Clinician,
                &s.board,
                "demo-clinician",
                Some("Dr Demo Clinician".into()),
            )?;
            tokens.insert(s.board.clone(), token);
        }
    }
    let results: Vec<anyhow::Result<String>> = futures::stream::iter(chosen.iter())
        .map(|(s, body, ask)| {
            let bar = bar.clone();
            let token = tokens.get(&s.board).cloned().unwrap_or_default();
            async move {
                let done = clinician::vet_one(client, &token, &s.id, body, *ask).await;
                bar.inc(1);
                done
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut by_outcome = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(what) => *by_outcome.entry(what).or_default() += 1,
            Err(error) => failures.push(format!("{error:#}")),
        }
    }
    writeln!(
        out,
        "the demo clinician vetted {} referrals:",
        chosen.len() - failures.len()
    )?;
    for (what, n) in &by_outcome {
        writeln!(out, "  {n:>6}  {what}")?;
    }
    if !failures.is_empty() {
        for failure in failures.iter().take(5) {
            writeln!(out, "          {failure}")?;
        }
        anyhow::bail!("{} referrals could not be vetted", failures.len());
    }
    Ok(())
}

/// A progress bar on the terminal (hidden when stderr is not one).
pub(crate) fn progress(length: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what}  {{per_sec}}  eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
#[path = "tests/demo.rs"]
mod tests;
