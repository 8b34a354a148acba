//! Sending the notifications FHIR Subscriptions are owed.
//!
//! A row is read locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL: another
//! instance skips it), sent, and marked in the same transaction. A crash
//! after the subscriber took the notification and before the mark commits
//! sends it again: at least once, and a subscriber tells a repeat by the
//! Task's `meta.versionId`. Without a payload the notification is an empty
//! POST to the endpoint; with `application/fhir+json` the Task, as it is
//! when sent, is PUT to `<endpoint>/Task/<id>` (R4's rest-hook).
//!
//! A 2xx is delivered. A 5xx, 408, 429 or no answer is tried again at
//! once a few times (backon), then later with capped back-off, until it
//! heals. A 4xx, a redirect, or an endpoint the board no longer allows puts
//! the subscription in `error` with the reason, and nothing more is sent.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use pathway_common::audit::{self, AuditEntry};
use pathway_common::outbound::{self, Addresses};
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, TransactionTrait};
use tokio_util::sync::CancellationToken;

use super::{board_settings, endpoint_problem, set_error};
use crate::application::Intake;
use crate::application::referrals::task_facts;
use crate::domain::fhir::subscription::{Payload, split_header};
use crate::domain::fhir::task;
use crate::store::referral;
use crate::store::subscriptions::{self, ACTIVE, Attempt, notification, subscription};

/// Notifications sent per batch.
const BATCH: u64 = 20;
/// The longest wait between two attempts at one notification.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// Why one send failed.
#[derive(Debug)]
enum Failure {
    /// Worth trying again later.
    Transient(String),
    /// The subscriber refused it: the subscription goes to `error`.
    Refused(String),
}

/// The worker that sends subscription notifications.
pub struct Deliverer {
    intake: Intake,
    public: reqwest::Client,
    any: reqwest::Client,
}

impl Deliverer {
    /// Clients that follow no redirect, use no proxy and give up after `timeout`.
    pub fn new(intake: Intake, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            intake,
            public: outbound::client(timeout, Addresses::Public)?,
            any: outbound::client(timeout, Addresses::Any)?,
        })
    }

    /// Send one batch of due notifications; how many were handled. Tests
    /// drive the worker through this one step.
    pub async fn try_deliver_batch(&self) -> anyhow::Result<usize> {
        let db = self.intake.db();
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            return self.deliver_batch(db).await;
        }
        // The batch stays locked until it is marked: another instance skips it.
        let txn = db.begin().await?;
        let handled = self.deliver_batch(&txn).await?;
        txn.commit().await?;
        Ok(handled)
    }

    async fn deliver_batch<C: ConnectionTrait>(&self, db: &C) -> anyhow::Result<usize> {
        let rows = subscriptions::due(db, Utc::now(), BATCH).await?;
        let handled = rows.len();
        for row in rows {
            let attempt = self.deliver(db, &row).await?;
            if let Attempt::GiveUp { error } = &attempt {
                tracing::warn!(notification = %row.id, subscription_id = %row.subscription_id, %error, "FHIR subscription notification given up");
            }
            subscriptions::mark(db, row, attempt).await?;
        }
        Ok(handled)
    }

    /// Send `row` once; what became of it. `Err` only when the database failed.
    async fn deliver<C: ConnectionTrait>(
        &self,
        db: &C,
        row: &notification::Model,
    ) -> anyhow::Result<Attempt> {
        let give_up = |error: &str| Attempt::GiveUp {
            error: error.to_owned(),
        };
        let Some(sub) = subscription::Entity::find_by_id(row.subscription_id.clone())
            .one(db)
            .await?
            .filter(|s| s.status == ACTIVE)
        else {
            return Ok(give_up("the subscription is deleted or in error"));
        };
        let Some(referral) = referral::Entity::find_by_id(row.referral_id.clone())
            .one(db)
            .await?
        else {
            return Ok(give_up("the referral is gone"));
        };
        // The board's rules may have changed since the subscription was made.
        if let Some(why) = endpoint_problem(db, &referral.board, &sub.endpoint).await? {
            set_error(db, &sub.id, &why).await?;
            return Ok(give_up(&why));
        }
        let private = board_settings(db, &referral.board)
            .await?
            .and_then(|s| s.notification)
            .is_some_and(|n| n.allow_private_addresses);
        let (client, addresses) = if private {
            (&self.any, Addresses::Any)
        } else {
            (&self.public, Addresses::Public)
        };
        let payload = Payload::from_mime(sub.payload.as_deref());
        let (url, body) = match payload {
            Payload::Empty => (sub.endpoint.clone(), None),
            Payload::FhirJson => {
                let facts = task_facts(db, referral.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("the Task of {}: {e:?}", referral.id))?;
                audit::record(
                    db,
                    AuditEntry {
                        actor: &sub.owner_subject,
                        actor_role: &sub.owner_role,
                        action: "referral.read",
                        referral_id: Some(referral.id.clone()),
                        board: Some(&referral.board),
                        source: "fhir-subscription",
                        purpose: Some("FHIR Subscription notification"),
                    },
                )
                .await?;
                (
                    format!(
                        "{}/Task/{}",
                        sub.endpoint.trim_end_matches('/'),
                        referral.id
                    ),
                    Some(task::resource(&facts).to_string()),
                )
            }
        };
        if let Err(refused) = outbound::check_url(&url, addresses) {
            let why = refused.to_string();
            set_error(db, &sub.id, &why).await?;
            return Ok(give_up(&why));
        }
        let headers: Vec<String> = serde_json::from_str(&sub.headers).unwrap_or_default();
        let send = || async {
            let mut request = match &body {
                Some(body) => client
                    .put(&url)
                    .header("content-type", "application/fhir+json")
                    .body(body.clone()),
                None => client.post(&url),
            };
            for header in &headers {
                if let Some((name, value)) = split_header(header) {
                    request = request.header(name, value);
                }
            }
            let response =
                request
                    .send()
                    .await
                    .map_err(|e| match outbound::refused_address(&e) {
                        Some(refused) => Failure::Refused(refused.to_string()),
                        None => Failure::Transient(format!("no answer: {e}")),
                    })?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let text = outbound::read_capped(response)
                .await
                .map(|c| c.text().chars().take(300).collect::<String>())
                .unwrap_or_default();
            let why = format!("the endpoint answered {status}: {text}");
            if status.is_server_error()
                || status == reqwest::StatusCode::REQUEST_TIMEOUT
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            {
                Err(Failure::Transient(why))
            } else {
                Err(Failure::Refused(why))
            }
        };
        let result = send
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(2),
            )
            .when(|f| matches!(f, Failure::Transient(_)))
            .await;
        Ok(match result {
            Ok(()) => Attempt::Sent,
            Err(Failure::Refused(why)) => {
                set_error(db, &sub.id, &why).await?;
                give_up(&why)
            }
            Err(Failure::Transient(why)) => {
                let wait = Duration::from_secs(5)
                    .saturating_mul(1 << row.attempts.clamp(0, 16))
                    .min(MAX_BACKOFF);
                Attempt::Retry {
                    next: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                    error: why,
                }
            }
        })
    }

    /// Send until `stop`, looking for due notifications twice a second.
    pub async fn run(&self, stop: CancellationToken) -> anyhow::Result<()> {
        let mut backoff = Duration::from_millis(500);
        while !stop.is_cancelled() {
            let wait = match self.try_deliver_batch().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {
                    backoff = Duration::from_millis(500);
                    Duration::from_millis(500)
                }
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "FHIR subscription delivery: will retry"
                    );
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    backoff
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => break,
            }
        }
        Ok(())
    }
}
