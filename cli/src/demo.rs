//! `pathway demo`: synthetic but realistic referrals across several boards.
//!
//! Patients are invented (names from common Scottish names, valid CHI
//! numbers, postcodes from the sample lookup); the clinical mix follows what
//! a chronic pain service sees: mostly back and widespread pain of a year or
//! more, moderate to severe intensity, and a red flag on about one in twelve.

use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pathway_intake::domain::modulus_11_check_digit;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::Client;

const GIVEN_FEMALE: &[&str] = &[
    "Morag", "Eilidh", "Fiona", "Isla", "Catriona", "Mairi", "Kirsty", "Anne", "Margaret", "Shona",
];
const GIVEN_MALE: &[&str] = &[
    "Angus", "Callum", "Euan", "Iain", "Hamish", "Fraser", "Duncan", "Alasdair", "James", "Ross",
];
const FAMILY: &[&str] = &[
    "MacLeod",
    "MacDonald",
    "Campbell",
    "Stewart",
    "Robertson",
    "Fraser",
    "Mackenzie",
    "Ross",
    "Sutherland",
    "Munro",
    "Grant",
    "Reid",
];
const SITES: &[&str] = &[
    "lower_back",
    "neck",
    "shoulder",
    "knee",
    "hip",
    "widespread",
    "leg",
    "upper_back",
    "pelvis",
    "head",
];
const LEVELS: &[&str] = &["none", "mild", "moderate", "severe"];
const RED_FLAGS: &[&str] = &[
    "unexplained_weight_loss",
    "history_of_cancer",
    "new_neurological_deficit",
    "non_mechanical_night_pain",
];
const TREATMENTS: &[&str] = &[
    "paracetamol",
    "naproxen",
    "amitriptyline 10 mg",
    "gabapentin",
    "physiotherapy",
    "TENS",
    "codeine",
    "pregabalin",
];
const QUESTIONS: &[&str] = &[
    "Would the pain management programme help?",
    "Please advise on medication: current regime not helping.",
    "Is a specialist assessment needed, or can this be managed in primary care?",
    "Would pain psychology be appropriate? Low mood and poor sleep.",
];

fn postcodes_for(board: &str) -> &'static [&'static str] {
    match board {
        "highland" => &["IV2 3UJ", "IV2 4AG", "IV27 4NZ", "PH33 6SY", "KW1 4YT"],
        "grampian" => &["AB10 1XG"],
        "lothian" => &["EH1 1YZ", "EH10 5HF"],
        "fife" => &["KY1 1XX"],
        "greater-glasgow-clyde" => &["G12 8QQ", "G40 1AA"],
        "tayside" => &["DD1 4HN"],
        _ => &["EH1 1YZ"],
    }
}

fn chi(rng: &mut StdRng, ddmmyy: &str, male: bool) -> String {
    loop {
        let serial: u32 = rng.random_range(0..100);
        let sex_digit: u32 = rng.random_range(0..5) * 2 + u32::from(male);
        let first_nine = format!("{ddmmyy}{serial:02}{sex_digit}");
        let digits: Vec<u32> = first_nine.chars().filter_map(|c| c.to_digit(10)).collect();
        if let Some(check) = modulus_11_check_digit(&digits) {
            return format!("{first_nine}{check}");
        }
    }
}

/// One invented referral for `board`.
pub fn referral(rng: &mut StdRng, board: &str) -> Value {
    let male = rng.random_bool(0.4);
    let year = rng.random_range(1940..2004);
    let month = rng.random_range(1..=12u32);
    let day = rng.random_range(1..=28u32);
    let ddmmyy = format!("{day:02}{month:02}{:02}", year % 100);
    let given = if male { GIVEN_MALE } else { GIVEN_FEMALE }
        .choose(rng)
        .copied()
        .unwrap_or("Alex");
    let family = FAMILY.choose(rng).copied().unwrap_or("Smith");
    let postcode = postcodes_for(board)
        .choose(rng)
        .copied()
        .unwrap_or("EH1 1YZ");
    let preferred = *["sms", "sms", "email", "letter"]
        .choose(rng)
        .unwrap_or(&"sms");
    let mut sites: Vec<&str> = SITES.to_vec();
    sites.shuffle(rng);
    sites.truncate(rng.random_range(1..=3));
    let red_flags: Vec<&str> = if rng.random_bool(1.0 / 12.0) {
        vec![
            RED_FLAGS
                .choose(rng)
                .copied()
                .unwrap_or("history_of_cancer"),
        ]
    } else {
        Vec::new()
    };
    let mut treatments: Vec<&str> = TREATMENTS.to_vec();
    treatments.shuffle(rng);
    let level = |rng: &mut StdRng| LEVELS[rng.random_range(1..4)];
    json!({
        "board": board,
        "patient": {
            "chi": chi(rng, &ddmmyy, male),
            "given_name": given,
            "family_name": family,
            "date_of_birth": format!("{year}-{month:02}-{day:02}"),
            "sex": if male { "male" } else { "female" },
            "postcode": postcode,
            "contact": {
                "preferred": preferred,
                "mobile": format!("07700 9{:05}", rng.random_range(0..100_000)),
                "email": format!("{}.{}@example.org", given.to_lowercase(), family.to_lowercase()),
                "address": {"lines": [format!("{} High Street", rng.random_range(1..200))], "postcode": postcode}
            },
            "accessibility_needs": if rng.random_bool(0.1) { json!(["large_print"]) } else { json!([]) }
        },
        "referrer": {
            "practice_code": format!("{}", rng.random_range(10_000..90_000)),
            "clinician_name": format!("Dr {}", FAMILY.choose(rng).copied().unwrap_or("Smith")),
            "reply_channel": "email",
            "reply_address": "referrals@practice.example.org"
        },
        "clinical": {
            "pain_duration_months": rng.random_range(3..120),
            "pain_sites": sites,
            "pain_intensity": rng.random_range(3..=10),
            "impact": {"function": level(rng), "sleep": level(rng), "mood": level(rng)},
            "red_flags": red_flags,
            "current_treatments": treatments[..2],
            "previous_treatments": treatments[2..4],
            "question": QUESTIONS.choose(rng).copied().unwrap_or(QUESTIONS[0])
        },
        "consent_to_remote_pathway": true
    })
}

/// What `pathway demo` does.
pub struct Options {
    /// Live referrals to send.
    pub count: usize,
    pub boards: Vec<String>,
    pub concurrency: usize,
    pub seed: Option<u64>,
    /// Months of baseline history imported per board (0: none).
    pub baseline_months: u32,
    /// Share of the live referrals on the pathway the demo clinician vets.
    pub vet_share: f64,
    pub vetting: String,
    pub analytics: String,
}

/// When the `index`-th board switched the pathway on: a year ago, six
/// months, three months, then one month, on the first of the month.
pub fn switch_on_date(index: usize, today: NaiveDate) -> NaiveDate {
    let months = match index {
        0 => 12,
        1 => 6,
        2 => 3,
        _ => 1,
    };
    let first = today.with_day(1).unwrap_or(today);
    first
        .checked_sub_months(Months::new(months))
        .unwrap_or(first)
}

/// One live referral the demo sent.
struct Sent {
    id: String,
    board: String,
    red_flags: bool,
}

pub async fn run(client: &Client, options: &Options) -> anyhow::Result<()> {
    let boards = &options.boards;
    anyhow::ensure!(!boards.is_empty(), "name at least one board with --boards");
    anyhow::ensure!(
        (0.0..=1.0).contains(&options.vet_share),
        "--vet must be between 0 and 1, e.g. 0.8"
    );
    for board in boards {
        pathway_intake::domain::BoardCode::parse(board).map_err(anyhow::Error::msg)?;
    }
    let mut rng = match options.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let today = chrono::Utc::now().date_naive();
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
            let (status, answer) = client
                .switch(board, true, Some(&since.to_string()), Some("pathway demo"))
                .await?;
            anyhow::ensure!(status == 200, "cannot switch {board} on: {answer}");
            println!("{board}: remote pathway on since {since}");
        } else {
            println!("{board}: standard route (not on the pathway)");
        }
        adopted.push((board.clone(), since));
    }
    if options.baseline_months > 0 {
        import_baselines(client, options, &adopted, today, &mut rng).await?;
    }
    let sent = send_referrals(client, options, &mut rng).await?;
    if options.vet_share > 0.0 && !sent.is_empty() {
        vet(client, options, &sent, &mut rng).await?;
    }
    let adopters: Vec<String> = adopted
        .iter()
        .filter(|(_, since)| since.is_some())
        .map(|(board, _)| format!("--board {board}"))
        .collect();
    println!(
        "\nSee the numbers: {}/dashboard (sign in with `pathway token --role evaluator --board '*'`),\n\
         or `pathway metrics {} --from {} --by quarter --split adoption`",
        options.analytics.trim_end_matches('/'),
        adopters.join(" "),
        today
            .checked_sub_months(Months::new(options.baseline_months + 12))
            .unwrap_or(today)
            .with_day(1)
            .unwrap_or(today)
    );
    Ok(())
}

/// Each board's history before it adopted the pathway (up to today for a
/// board still on the standard route), through `pathway analytics import`.
async fn import_baselines(
    client: &Client,
    options: &Options,
    adopted: &[(String, Option<NaiveDate>)],
    today: NaiveDate,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    for (board, since) in adopted {
        let until = since.unwrap_or(today);
        let from = until
            .checked_sub_months(Months::new(options.baseline_months))
            .unwrap_or(until);
        let (csv, rows) = crate::baseline::csv(rng, board, from, until, today);
        let loaded = crate::analytics::import(client, &options.analytics, board, csv.into_bytes())
            .await
            .with_context(|| format!("cannot import {board}'s baseline into analytics"))?;
        anyhow::ensure!(
            loaded.loaded == rows as u64,
            "analytics loaded {} of {rows} baseline rows for {board}",
            loaded.loaded
        );
        println!(
            "{board}: {rows} referrals from {from} to {} imported as its baseline",
            until - chrono::Duration::days(1)
        );
    }
    Ok(())
}

async fn send_referrals(
    client: &Client,
    options: &Options,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<Sent>> {
    let count = options.count;
    let bodies: Vec<Value> = (0..count)
        .map(|_| {
            let board = options
                .boards
                .choose(rng)
                .cloned()
                .unwrap_or_else(|| "highland".into());
            referral(rng, &board)
        })
        .collect();
    let bar = progress(count as u64, "referrals");
    let results: Vec<(bool, anyhow::Result<(u16, Value)>)> = futures::stream::iter(bodies.iter())
        .map(|body| {
            let bar = bar.clone();
            let red_flags = body["clinical"]["red_flags"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
            async move {
                let answer = client.refer(body, None).await;
                bar.inc(1);
                (red_flags, answer)
            }
        })
        .buffer_unordered(options.concurrency)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    let mut sent = Vec::new();
    for (red_flags, result) in results {
        match result {
            Ok((201, answer)) => {
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
            Ok((status, answer)) => failures.push(format!(
                "{status}: {}",
                answer["message"].as_str().unwrap_or("?")
            )),
            Err(error) => failures.push(format!("{error:#}")),
        }
    }
    println!("sent {count} referrals:");
    for (status, n) in &by_status {
        println!("  {n:>6}  {status}");
    }
    if !failures.is_empty() {
        println!("  {:>6}  refused", failures.len());
        for failure in failures.iter().take(5) {
            println!("          {failure}");
        }
        anyhow::bail!("{} of {count} referrals were refused", failures.len());
    }
    Ok(sent)
}

fn progress(length: u64, what: &str) -> ProgressBar {
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

/// Outcomes on the remote pathway, with their weights in a hundred: about
/// half managed without a specialist appointment.
const REMOTE_OUTCOMES: &[(&str, u32)] = &[
    ("accept", 24),
    ("advice_to_referrer", 22),
    ("self_management", 14),
    ("physiotherapy", 14),
    ("pain_management_programme", 10),
    ("pain_psychology", 9),
    ("redirect", 4),
    ("decline", 3),
];
const ADVICE: &[&str] = &[
    "Try amitriptyline 10 mg at night, increasing to 20 mg after two weeks if tolerated; review in six weeks.",
    "Taper codeine over four weeks; opioids are unlikely to help long-term. Consider duloxetine 30 mg.",
    "Continue physiotherapy-led exercise; add pregabalin 75 mg twice daily for the neuropathic element.",
];
/// One in twenty is asked for more first.
const INFO_QUESTIONS: &[&str] = &[
    "Has there been imaging of the lumbar spine? Please attach the report.",
    "What doses of gabapentin were tried, and for how long?",
];

/// The outcome the demo clinician records for a referral.
pub fn outcome(rng: &mut StdRng, red_flags: bool) -> Value {
    let code = if red_flags {
        "accept"
    } else {
        crate::baseline::pick(rng, REMOTE_OUTCOMES)
    };
    let mut body = json!({"outcome": code});
    match code {
        "accept" => {
            body["priority"] = json!(if red_flags {
                "urgent"
            } else {
                *["soon", "routine", "routine"]
                    .choose(rng)
                    .unwrap_or(&"routine")
            });
            body["mode"] = json!(
                *["face_to_face", "video", "telephone"]
                    .choose(rng)
                    .unwrap_or(&"video")
            );
            body["rationale"] = json!(if red_flags {
                "Red flags: needs to be seen in the clinic soon."
            } else {
                "Persistent pain despite primary care treatment: specialist assessment."
            });
        }
        "advice_to_referrer" => {
            body["advice"] = json!(ADVICE.choose(rng).copied().unwrap_or(ADVICE[0]));
            body["rationale"] = json!("Can be managed in primary care with this advice.");
        }
        "decline" => {
            body["rejection_reason"] = json!("02");
            body["reason"] = json!("Acute pain of a few weeks: not for the chronic pain service.");
            body["rationale"] = json!("Acute presentation.");
        }
        "redirect" => {
            body["reason"] = json!("Needs orthopaedic review of the knee first.");
            body["rationale"] = json!("Surgical question before pain management.");
        }
        _ => {
            body["rationale"] = json!(
                "The referral describes needs this service meets well, without a clinic appointment first."
            );
        }
    }
    body
}

/// The demo clinician, one per board, vets a share of the live referrals:
/// claims each (waiting for vetting to see it first) and records an outcome,
/// or asks the referrer a question.
async fn vet(
    client: &Client,
    options: &Options,
    sent: &[Sent],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let base = options.vetting.trim_end_matches('/');
    let mut chosen: Vec<(&Sent, Value, bool)> = Vec::new();
    for s in sent {
        if rng.random_bool(options.vet_share) {
            let ask = !s.red_flags && rng.random_bool(0.05);
            chosen.push((s, outcome(rng, s.red_flags), ask));
        }
    }
    if chosen.is_empty() {
        return Ok(());
    }
    let bar = progress(chosen.len() as u64, "vetted by the demo clinician");
    let mut tokens = std::collections::BTreeMap::new();
    for (s, _, _) in &chosen {
        if !tokens.contains_key(&s.board) {
            tokens.insert(s.board.clone(), client.clinician_token(&s.board)?);
        }
    }
    let results: Vec<anyhow::Result<String>> = futures::stream::iter(chosen.iter())
        .map(|(s, body, ask)| {
            let bar = bar.clone();
            let token = tokens.get(&s.board).cloned().unwrap_or_default();
            async move {
                let done = vet_one(client, base, &token, &s.id, body, *ask).await;
                bar.inc(1);
                done
            }
        })
        .buffer_unordered(options.concurrency)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut by_outcome = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(what) => *by_outcome.entry(what).or_default() += 1,
            Err(error) => failures.push(format!("{error:#}")),
        }
    }
    println!(
        "the demo clinician vetted {} referrals:",
        chosen.len() - failures.len()
    );
    for (what, n) in &by_outcome {
        println!("  {n:>6}  {what}");
    }
    if !failures.is_empty() {
        for failure in failures.iter().take(5) {
            println!("          {failure}");
        }
        anyhow::bail!("{} referrals could not be vetted", failures.len());
    }
    Ok(())
}

async fn vet_one(
    client: &Client,
    base: &str,
    token: &str,
    id: &str,
    outcome: &Value,
    ask: bool,
) -> anyhow::Result<String> {
    let post = |path: String, body: Value| {
        client.send_to(
            client
                .http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body),
            base,
        )
    };
    // Vetting sees a referral once it has read `referral.received`: give it a moment.
    let mut tries = 0;
    loop {
        let (status, answer) = post(format!("/v1/referrals/{id}/claim"), json!({})).await?;
        match status {
            200 => break,
            404 if tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => anyhow::bail!(
                "cannot claim {id}: vetting answered {status}: {}",
                answer["message"].as_str().unwrap_or("?")
            ),
        }
    }
    let (path, body, what) = if ask {
        let question = INFO_QUESTIONS
            .choose(&mut rand::rng())
            .copied()
            .unwrap_or(INFO_QUESTIONS[0]);
        (
            format!("/v1/referrals/{id}/information-requests"),
            json!({"question": question}),
            "information requested".to_owned(),
        )
    } else {
        (
            format!("/v1/referrals/{id}/outcome"),
            outcome.clone(),
            outcome["outcome"].as_str().unwrap_or("?").to_owned(),
        )
    };
    let (status, answer) = post(path, body).await?;
    anyhow::ensure!(
        status == 200 || status == 201,
        "cannot record {what} for {id}: vetting answered {status}: {}",
        answer["message"].as_str().unwrap_or("?")
    );
    Ok(what)
}

#[cfg(test)]
#[path = "tests/demo.rs"]
mod tests;
