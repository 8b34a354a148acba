//! The load: referrals posted on a fixed schedule (open loop: the next is
//! sent when it is due, whatever became of the last), and the automated
//! clinician who vets each one over the API as soon as it shows on the
//! worklist.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::BOARD;

/// What the referrers and the clinician call, and with which tokens.
pub struct Clients {
    pub http: reqwest::Client,
    pub intake: String,
    pub vetting: String,
    /// One token per referring practice: intake limits requests per token.
    pub referrers: Vec<String>,
    /// One token per clinician; a referral is claimed and vetted by one.
    pub clinicians: Vec<String>,
}

/// What the offered load came to.
pub struct Offered {
    /// Each referral intake took (201): its id and when its POST was sent.
    pub posted: Vec<(String, DateTime<Utc>)>,
    /// POSTs not answered 201.
    pub errors: u64,
    /// When the first POST was sent.
    pub first: Instant,
    /// Referrals taken per second, from the first POST sent to the last
    /// answered.
    pub rate: f64,
}

impl Clients {
    /// POST one referral; its id when intake answers 201.
    pub async fn refer(&self, token: &str, body: &Value) -> Option<String> {
        let response = self
            .http
            .post(format!("{}/v1/referrals", self.intake))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .ok()?;
        if response.status() != 201 {
            return None;
        }
        let created: Value = response.json().await.ok()?;
        created["id"].as_str().map(str::to_owned)
    }

    /// Whether the clinician's worklist for the board answers.
    pub async fn worklist_answers(&self) -> bool {
        self.waiting().await.is_some()
    }

    /// The referrals awaiting vetting, oldest and red-flagged first.
    async fn waiting(&self) -> Option<Vec<String>> {
        let response = self
            .http
            .get(format!(
                "{}/v1/boards/{BOARD}/worklist?status=awaiting_vetting&limit=200",
                self.vetting
            ))
            .bearer_auth(&self.clinicians[0])
            .send()
            .await
            .ok()?;
        if response.status() != 200 {
            return None;
        }
        let page: Value = response.json().await.ok()?;
        Some(
            page["referrals"]
                .as_array()?
                .iter()
                .filter_map(|row| row["referral_id"].as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// Claim `id` and record an outcome that notifies the patient and the GP.
    async fn vet(&self, id: &str, clinician: &str) -> bool {
        let base = &self.vetting;
        let claimed = self
            .http
            .post(format!("{base}/v1/referrals/{id}/claim"))
            .bearer_auth(clinician)
            .send()
            .await;
        if !claimed.is_ok_and(|r| r.status() == 200) {
            return false;
        }
        self.http
            .post(format!("{base}/v1/referrals/{id}/outcome"))
            .bearer_auth(clinician)
            .json(&json!({
                "outcome": "accept",
                "priority": "routine",
                "mode": "video",
                "rationale": "Persistent pain despite physiotherapy: the clinic should see her."
            }))
            .send()
            .await
            .is_ok_and(|r| r.status() == 201)
    }
}

/// Offer `rate` referrals a second for `seconds`, over the referrers' tokens.
pub async fn offer(clients: &Arc<Clients>, rate: u64, seconds: u64) -> Offered {
    let total = rate * seconds;
    // Made before the clock starts.
    let bodies: Vec<Value> = (0..total).map(|_| valid_referral(BOARD)).collect();
    let mut interval = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    interval.tick().await;
    let first = Instant::now();
    for (n, body) in bodies.into_iter().enumerate() {
        if n > 0 {
            interval.tick().await;
        }
        let clients = clients.clone();
        tasks.spawn(async move {
            let sent = Utc::now();
            let token = &clients.referrers[n % clients.referrers.len()];
            let id = clients.refer(token, &body).await;
            (id.map(|id| (id, sent)), Instant::now())
        });
    }
    let mut posted = Vec::new();
    let mut errors = 0;
    let mut last = first;
    while let Some(result) = tasks.join_next().await {
        let (taken, answered) = result.expect("a POST task ends");
        match taken {
            Some(taken) => {
                posted.push(taken);
                last = last.max(answered);
            }
            None => errors += 1,
        }
    }
    let span = last.duration_since(first).as_secs_f64().max(1e-3);
    Offered {
        rate: posted.len() as f64 / span,
        posted,
        errors,
        first,
    }
}

/// The automated clinician: polls the worklist every 100 ms (the 200 oldest
/// awaiting vetting, as a clinician's screen would show them, not the whole
/// backlog at once) and vets each referral that shows there, each in a task of its own, until `stop`. A referral whose
/// claim or outcome failed goes back to be picked up from the worklist again.
pub fn clinician(clients: Arc<Clients>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut taken: HashSet<String> = HashSet::new();
        let (failed_tx, mut failed_rx) = mpsc::unbounded_channel::<String>();
        let mut next = 0usize;
        while !stop.is_cancelled() {
            while let Ok(id) = failed_rx.try_recv() {
                taken.remove(&id);
            }
            for id in clients.waiting().await.unwrap_or_default() {
                if !taken.insert(id.clone()) {
                    continue;
                }
                let clients = clients.clone();
                let failed = failed_tx.clone();
                let clinician = clients.clinicians[next % clients.clinicians.len()].clone();
                next += 1;
                tokio::spawn(async move {
                    if !clients.vet(&id, &clinician).await {
                        let _ = failed.send(id);
                    }
                });
            }
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    })
}
