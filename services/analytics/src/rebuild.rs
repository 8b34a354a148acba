//! Rebuild: forget every fact and read the whole stream again, either in the
//! running service (`POST /v1/rebuild`, `pathway analytics rebuild`: the
//! [`Rebuilder`] stops the live consumer, replays, and starts it again) or
//! with the service stopped (`analytics rebuild`); either way the consumer
//! carries on from where the rebuild ended.
//!
//! The durable consumer is deleted; then the facts (all but the imported
//! baseline), the boards' histories, the consumer's inbox rows and its dead
//! letters are deleted in one transaction; the consumer is created again
//! from the start of the stream, and every message is handled through the
//! same inbox as in service, one batch at a time, so a rebuild gives the
//! same facts as the service built them. A crash at any point leaves facts
//! that the next start completes from the stream.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::inbox::{self, dead_letter};
use pathway_common::platform::Platform;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::application::Analytics;
use crate::consumer::DURABLE;
use crate::db::{Migrator, fact, pathway_change, settings_change};
use crate::domain::metrics::MetricRules;
use crate::settings::Settings;

/// How far a rebuild has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Messages handled so far (redeliveries and dead letters included).
    pub handled: u64,
    /// Messages still waiting on the stream for this consumer.
    pub remaining: u64,
}

/// Rebuild every fact from the stream with the service stopped (`analytics
/// rebuild`), calling `report` after each batch.
pub async fn rebuild(
    settings: &Settings,
    report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let platform = Platform::start::<Migrator>(
        "analytics",
        &settings.database,
        &settings.nats,
        &settings.auth,
    )
    .await?;
    let analytics = Analytics {
        platform: platform.clone(),
        rules: MetricRules {
            without_specialist: settings.without_specialist_outcomes.clone(),
            suppression_threshold: settings.suppression_threshold.max(1),
        },
    };
    let done = replay(&analytics, report).await;
    platform.db.close().await.ok();
    done
}

/// Forget the facts built from the stream and read it again from the start,
/// through the same inbox as in service. Nothing else may consume the
/// durable meanwhile: the service stops its own consumer first ([`Rebuilder`]).
pub async fn replay(
    analytics: &Analytics,
    mut report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let platform = &analytics.platform;
    // The consumer goes first, then the facts: a crash between the two leaves
    // the facts and their inbox rows, and the consumer created again from the
    // start finds every message already handled. The other way round, a crash
    // would leave no facts behind a consumer that carries on from where it was.
    let stream = platform
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    if let Err(error) = stream.delete_consumer(DURABLE).await {
        // Absent on a first run: nothing to delete then.
        if stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(DURABLE)
            .await
            .is_ok()
        {
            anyhow::bail!(
                "cannot delete the durable consumer {DURABLE} ({error}): nothing was cleared; try again"
            );
        }
    }
    let txn = platform.db.begin().await?;
    // Imported baseline facts come from no stream: they stay.
    fact::Entity::delete_many()
        .filter(fact::Column::ReferralId.not_like(format!("{}%", crate::baseline::PREFIX)))
        .exec(&txn)
        .await?;
    pathway_change::Entity::delete_many().exec(&txn).await?;
    settings_change::Entity::delete_many().exec(&txn).await?;
    inbox::entity::Entity::delete_many()
        .filter(inbox::entity::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    dead_letter::Entity::delete_many()
        .filter(dead_letter::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    txn.commit().await.context("cannot clear the facts")?;
    let inbox = crate::startup::inbox(analytics).await?;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = stream
        .get_consumer(DURABLE)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read back the consumer just created: {e}"))?;
    let mut progress = Progress {
        handled: 0,
        remaining: 0,
    };
    loop {
        let outcomes = inbox.try_process_batch(256).await?;
        progress.handled += outcomes.len() as u64;
        let info = consumer.info().await.context("cannot read the consumer")?;
        progress.remaining = info.num_pending;
        report(progress);
        if outcomes.is_empty() && info.num_pending == 0 && info.num_ack_pending == 0 {
            break;
        }
    }
    // Dead letters found on the way wait in the outbox: publish them now;
    // what cannot be published now the service's relay publishes later.
    let relay = platform.relay();
    loop {
        match relay.try_publish_batch().await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "dead letters left in the outbox for the service to publish"
                );
                break;
            }
        }
    }
    Ok(progress)
}

/// Where the running service's rebuild is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    /// No rebuild since the service started.
    Idle,
    Running,
    Done,
    Failed,
}

/// The running service's last rebuild, as `GET /v1/rebuild` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RebuildStatus {
    pub state: RebuildState,
    /// Messages handled so far (redeliveries and dead letters included).
    pub handled: u64,
    /// Messages still waiting on the stream.
    pub remaining: u64,
    pub requested_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed; the live consumer carries on from where it stopped.
    pub error: Option<String>,
}

impl RebuildStatus {
    fn idle() -> Self {
        Self {
            state: RebuildState::Idle,
            handled: 0,
            remaining: 0,
            requested_by: None,
            started_at: None,
            finished_at: None,
            error: None,
        }
    }
}

struct Live {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

struct Inner {
    analytics: Analytics,
    shutdown: CancellationToken,
    /// Whether this service runs the live consumer (tests drive it by hand).
    consume: bool,
    live: tokio::sync::Mutex<Option<Live>>,
    status: std::sync::Mutex<RebuildStatus>,
}

/// The live consumer of the running service, and rebuilds that pause it.
#[derive(Clone)]
pub struct Rebuilder {
    inner: Arc<Inner>,
}

impl Rebuilder {
    pub fn new(analytics: Analytics, shutdown: &CancellationToken, consume: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                analytics,
                shutdown: shutdown.clone(),
                consume,
                live: tokio::sync::Mutex::new(None),
                status: std::sync::Mutex::new(RebuildStatus::idle()),
            }),
        }
    }

    /// Start the live consumer (when this service runs one).
    pub async fn start_live(&self) -> anyhow::Result<()> {
        if !self.inner.consume || self.inner.shutdown.is_cancelled() {
            return Ok(());
        }
        let mut live = self.inner.live.lock().await;
        if live.is_some() {
            return Ok(());
        }
        let inbox = crate::startup::inbox(&self.inner.analytics).await?;
        let stop = self.inner.shutdown.child_token();
        let token = stop.clone();
        let task = tokio::spawn(async move { inbox.run(token).await });
        *live = Some(Live { stop, task });
        Ok(())
    }

    /// Stop the live consumer and wait for the message in hand.
    pub async fn stop_live(&self) {
        if let Some(live) = self.inner.live.lock().await.take() {
            live.stop.cancel();
            if let Err(error) = live.task.await {
                tracing::error!(%error, "the analytics consumer panicked");
            }
        }
    }

    pub fn status(&self) -> RebuildStatus {
        self.inner
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn is_running(&self) -> bool {
        self.status().state == RebuildState::Running
    }

    fn update(&self, change: impl FnOnce(&mut RebuildStatus)) {
        let mut status = self
            .inner
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut status);
    }

    /// Start a rebuild in the background; `None` when one is running already.
    pub fn begin(&self, requested_by: &str) -> Option<RebuildStatus> {
        {
            let mut status = self
                .inner
                .status
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if status.state == RebuildState::Running {
                return None;
            }
            *status = RebuildStatus {
                state: RebuildState::Running,
                requested_by: Some(requested_by.to_owned()),
                started_at: Some(Utc::now()),
                ..RebuildStatus::idle()
            };
        }
        tracing::info!(requested_by, "analytics rebuild started");
        let this = self.clone();
        tokio::spawn(async move { this.run().await });
        Some(self.status())
    }

    async fn run(self) {
        self.stop_live().await;
        let result = replay(&self.inner.analytics, |progress| {
            self.update(|s| {
                s.handled = progress.handled;
                s.remaining = progress.remaining;
            });
        })
        .await;
        match &result {
            Ok(progress) => {
                tracing::info!(handled = progress.handled, "analytics rebuild done");
                self.update(|s| {
                    s.state = RebuildState::Done;
                    s.finished_at = Some(Utc::now());
                });
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "analytics rebuild failed");
                self.update(|s| {
                    s.state = RebuildState::Failed;
                    s.finished_at = Some(Utc::now());
                    s.error = Some(format!("{error:#}"));
                });
            }
        }
        if let Err(error) = self.start_live().await {
            tracing::error!(
                error = format!("{error:#}"),
                "cannot start the analytics consumer again after the rebuild"
            );
        }
    }
}
