//! The demo clinician: which outcome it records for a referral (the remote
//! pathway's mix, about half managed without a specialist appointment), and
//! vetting one referral through the vetting service's clinician API: claim
//! it, then record the outcome or ask the referrer a question.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::baseline::pick;
use crate::client::{Client, Service};

/// How often, and how long apart, a claim is tried again while vetting has
/// not yet read the referral from the stream.
const CLAIM_TRIES: u32 = 50;
const CLAIM_PAUSE: Duration = Duration::from_millis(100);
/// Outcomes on the remote pathway, with their weights in a hundred: about
/// half managed without a specialist appointment.
pub(super) const REMOTE_OUTCOMES: &[(&str, u32)] = &[
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
        pick(rng, REMOTE_OUTCOMES)
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

/// Vet referral `id` as the demo clinician (`token`): claim it, then record
/// `outcome`, or with `ask` ask the referrer a question. Returns what was
/// done, for the summary.
pub async fn vet_one(
    client: &Client,
    token: &str,
    id: &str,
    outcome: &Value,
    ask: bool,
) -> anyhow::Result<String> {
    let post = |path: String, body: Value| async move {
        client
            .post(Service::Vetting, &path)?
            .bearer(token)
            .json(&body)
            .send()
            .await
    };
    // Vetting sees a referral once it has read `referral.received`: give it a moment.
    let mut tries = 0;
    loop {
        let reply = post(format!("/v1/referrals/{id}/claim"), json!({})).await?;
        match reply.status {
            200 => break,
            404 if tries < CLAIM_TRIES => {
                tries += 1;
                tokio::time::sleep(CLAIM_PAUSE).await;
            }
            status => anyhow::bail!(
                "cannot claim {id}: vetting answered {status}: {}",
                reply.json()["message"].as_str().unwrap_or("?")
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
    let reply = post(path, body).await?;
    anyhow::ensure!(
        reply.status == 200 || reply.status == 201,
        "cannot record {what} for {id}: vetting answered {}: {}",
        reply.status,
        reply.json()["message"].as_str().unwrap_or("?")
    );
    Ok(what)
}
