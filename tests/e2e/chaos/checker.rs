//! The chaos test's checker: what the far end and the services' databases
//! hold once the pathway has settled, counted as lost, duplicated or
//! unexpected (see the test module's documentation for each count).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::Value;

use super::{BOARD, DELIVERIES};

/// The checker's verdict.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) lost: usize,
    pub(super) duplicated: usize,
    pub(super) unexpected: usize,
    /// Webhook copies sent again in doubt under the same delivery id, which
    /// the receiver drops: not duplicates, shown for information.
    pub(super) repeats: usize,
    /// What each count is made of, for the failure message.
    pub(super) details: Vec<String>,
}

/// What the far end and the services' databases hold.
pub(super) struct Observer {
    pub(super) decision: DatabaseConnection,
    pub(super) notification: DatabaseConnection,
    pub(super) analytics: DatabaseConnection,
    pub(super) analytics_base: String,
    pub(super) evaluator: String,
    pub(super) intake_base: String,
    pub(super) referrer: String,
    pub(super) http: reqwest::Client,
}

impl Observer {
    pub(super) async fn check(
        &self,
        acked: &BTreeSet<String>,
        gateway: &NotifyGateway,
        receiver: &WebhookReceiver,
    ) -> Counts {
        let mut counts = Counts::default();
        let mut note =
            |what: &str, detail: String| counts.details.push(format!("{what}: {detail}"));

        // Decisions, per referral.
        let mut decisions: HashMap<String, usize> = HashMap::new();
        for row in pathway_decision::store::decision::Entity::find()
            .all(&self.decision)
            .await
            .unwrap_or_default()
        {
            *decisions.entry(row.referral_id).or_default() += 1;
        }

        // Deliveries the notification service planned, and what reached the
        // far end under each delivery's id.
        let rows = pathway_notification::store::delivery::Entity::find()
            .all(&self.notification)
            .await
            .unwrap_or_default();
        let planned: HashMap<String, &pathway_notification::store::delivery::Model> =
            rows.iter().map(|r| (r.id.clone(), r)).collect();
        let mut received: HashMap<String, usize> = HashMap::new();
        for taken in gateway.taken() {
            *received.entry(taken.reference).or_default() += 1;
        }
        // A webhook sent in doubt goes again under the same
        // `Pathway-Delivery`, which receivers keep once (docs/decisions/0009):
        // one message, however many copies of it came.
        let mut copies: HashMap<String, usize> = HashMap::new();
        for hook in receiver.hooks() {
            *copies.entry(hook.delivery).or_default() += 1;
        }
        counts.repeats = copies.values().map(|n| n - 1).sum();
        for delivery in copies.into_keys() {
            *received.entry(delivery).or_default() += 1;
        }
        // Per referral, per (channel, recipient): how many messages arrived.
        let mut messages: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        let mut unexplained = 0;
        for (delivery, n) in &received {
            match planned.get(delivery) {
                Some(row) => {
                    *messages
                        .entry((
                            row.referral_id.clone(),
                            row.channel.clone(),
                            row.recipient.clone(),
                        ))
                        .or_default() += n;
                }
                None => unexplained += n,
            }
        }

        // Analytics' facts.
        let facts: HashMap<String, pathway_analytics::store::fact::Model> =
            pathway_analytics::store::fact::Entity::find()
                .all(&self.analytics)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|f| (f.referral_id.clone(), f))
                .collect();

        for id in acked {
            let mut missing = Vec::new();
            if !decisions.contains_key(id) {
                missing.push("decision".to_owned());
            }
            let for_it: Vec<_> = rows.iter().filter(|r| &r.referral_id == id).collect();
            let arrived = for_it
                .iter()
                .filter(|r| received.contains_key(&r.id))
                .count();
            if for_it.len() < DELIVERIES || arrived < for_it.len() {
                missing.push(format!(
                    "deliveries ({arrived} of {} planned arrived)",
                    for_it.len()
                ));
            }
            match facts.get(id) {
                Some(f) if f.decided_at.is_some() && f.notified_at.is_some() => {}
                Some(_) => missing.push("analytics fact decided and notified".to_owned()),
                None => missing.push("analytics fact".to_owned()),
            }
            if !missing.is_empty() {
                counts.lost += 1;
                note("lost", format!("{id} without {}", missing.join(", ")));
            }
        }

        for (id, n) in &decisions {
            if !acked.contains(id) {
                counts.unexpected += 1;
                note("unexpected", format!("a decision for {id}"));
            } else if *n > 1 {
                counts.duplicated += n - 1;
                note("duplicated", format!("{n} decisions for {id}"));
            }
        }
        for ((id, channel, recipient), n) in &messages {
            if !acked.contains(id) {
                counts.unexpected += n;
                note(
                    "unexpected",
                    format!("{n} {channel} to {recipient} about {id}"),
                );
            } else if *n > 1 {
                counts.duplicated += n - 1;
                note(
                    "duplicated",
                    format!("{n} {channel} to {recipient} about {id}"),
                );
            }
        }
        if unexplained > 0 {
            counts.unexpected += unexplained;
            note(
                "unexpected",
                format!("{unexplained} messages no delivery accounts for"),
            );
        }
        for (id, fact) in &facts {
            if fact.decided_at.is_some() && !acked.contains(id) {
                counts.unexpected += 1;
                note("unexpected", format!("an analytics fact decided for {id}"));
            }
        }
        // Counted twice: the metrics count more referrals than were posted.
        let counted = self.received_in_metrics().await;
        if let Some(counted) = counted
            && counted > acked.len() as u64
        {
            let extra = counted as usize - acked.len();
            counts.duplicated += extra;
            note(
                "duplicated",
                format!(
                    "analytics counts {counted} received for {} posted",
                    acked.len()
                ),
            );
        }
        counts
    }

    /// How many of `ids` intake shows in each status.
    pub(super) async fn intake_statuses(&self, ids: &BTreeSet<String>) -> BTreeMap<String, usize> {
        let mut statuses = BTreeMap::new();
        for id in ids {
            let status = match self
                .http
                .get(format!("{}/v1/referrals/{id}", self.intake_base))
                .bearer_auth(&self.referrer)
                .send()
                .await
            {
                Ok(response) => response
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["status"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unreadable".to_owned()),
                Err(_) => "unanswered".to_owned(),
            };
            *statuses.entry(status).or_default() += 1;
        }
        statuses
    }

    /// The referrals analytics' metrics count as received on the board,
    /// from two days back to today.
    async fn received_in_metrics(&self) -> Option<u64> {
        let from = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
        let response = self
            .http
            .get(format!(
                "{}/v1/metrics?boards={BOARD}&from={from}",
                self.analytics_base
            ))
            .bearer_auth(&self.evaluator)
            .send()
            .await
            .ok()?;
        let report: Value = response.json().await.ok()?;
        Some(
            report["rows"]
                .as_array()?
                .iter()
                .filter_map(|row| row["received"].as_u64())
                .sum(),
        )
    }
}
