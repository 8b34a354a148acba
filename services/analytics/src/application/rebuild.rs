//! Rebuild: forget every fact built from the stream and build them again,
//! from the latest snapshot of the facts and the stream after it, either in
//! the running service (`POST /v1/rebuild`, `pathway analytics rebuild`: the
//! [`Rebuilder`] stops the live consumer, replays, and starts it again) or
//! with the service stopped (`analytics rebuild`); either way the consumer
//! carries on from where the rebuild ended.
//!
//! Where it starts is [`crate::domain::snapshot::plan`]: after the latest
//! snapshot's stream sequence, or the stream's first message when there is
//! none; when the stream no longer holds a message it needs (aged out under
//! its `max_age`), it refuses before changing anything, unless the operator
//! asked to start from what the stream holds (`from_start`) and accepted the
//! loss.
//!
//! The durable consumer is deleted; then the facts (all but the imported
//! baseline), the boards' histories, the consumer's inbox rows and its dead
//! letters are deleted and the snapshot's put back, in one transaction; the
//! consumer is created again beginning after the snapshot, and every message
//! is handled through the same inbox as in service, one batch at a time, so
//! a rebuild gives the same facts as the service built them. A crash before
//! the transaction commits leaves everything as it was; after it, the
//! consumer the next start creates reads the stream from its first message,
//! and every message the snapshot holds finds its inbox row there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_common::inbox::{self, dead_letter};
use pathway_common::platform::Platform;
use pathway_common::supervisor::supervise;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Analytics, Error};
use crate::consumer::{self, DURABLE};
use crate::domain::rebuild::{RebuildState, RebuildTransition};
use crate::domain::snapshot::{self as rule, Covering, Held, Plan};
use crate::store::{boards, facts, snapshots};

/// How far a rebuild has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Messages handled so far (redeliveries and dead letters included).
    pub handled: u64,
    /// Messages still waiting on the stream for this consumer.
    pub remaining: u64,
}

impl Analytics {
    /// Start a rebuild in the background: the live consumer stops meanwhile
    /// and carries on after; metrics are [`Error::Rebuilding`] until it is
    /// done. It touches every board, so it needs a board admin for all of
    /// them (`*`).
    ///
    /// With `from_start`, any snapshot is ignored and the stream read from
    /// the first message it still holds, whatever aged out before it. A
    /// rebuild that would lose facts without it is refused
    /// ([`Error::RebuildRefused`]) before anything changes.
    pub async fn begin_rebuild(
        &self,
        caller: &Caller,
        from_start: bool,
    ) -> Result<RebuildStatus, Error> {
        require_operator(caller)?;
        if !self.rebuilder.is_running() {
            plan(&self.platform, from_start).await?.map_err(|refusal| {
                tracing::warn!(requested_by = %caller.subject, %refusal, "analytics rebuild refused");
                Error::RebuildRefused(refusal.to_string())
            })?;
        }
        self.rebuilder
            .begin(&caller.subject, from_start)
            .map_err(|running| Error::RebuildRunning {
                handled: running.handled,
                remaining: running.remaining,
            })
    }

    /// How the last rebuild went, or how far the running one is.
    pub fn rebuild_status(&self, caller: &Caller) -> Result<RebuildStatus, Error> {
        require_operator(caller)?;
        Ok(self.rebuilder.status())
    }
}

/// Rebuilding touches every board: a board admin for all of them (`*`).
fn require_operator(caller: &Caller) -> Result<(), Error> {
    caller.require_role(&[Role::BoardAdmin])?;
    if caller.boards.contains("*") {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "a rebuild touches every board's facts: it needs a board admin token for every board (`*`)"
                .into(),
        ))
    }
}

/// Where a rebuild would start now: the latest snapshot (unless
/// `from_start`) against what the stream holds; or why it must not.
pub async fn plan(
    platform: &Platform,
    from_start: bool,
) -> anyhow::Result<Result<Plan, rule::Refusal>> {
    let mut stream = platform
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    let state = stream
        .info()
        .await
        .context("cannot read the pathway stream")?
        .state
        .clone();
    let held = Held {
        first: state.first_sequence,
        last: state.last_sequence,
    };
    let latest = match snapshots::latest(&platform.db).await? {
        Some(snapshot) => Some(Covering {
            stream_sequence: u64::try_from(snapshot.stream_sequence).unwrap_or_default(),
            taken: pathway_proto::days::local(snapshot.taken_at)
                .format("%-d %B %Y %H:%M")
                .to_string(),
            id: snapshot.id,
        }),
        None => None,
    };
    Ok(rule::plan(latest, held, from_start))
}

/// Forget the facts built from the stream and build them again from the
/// latest snapshot and the stream after it (or, `from_start`, from what the
/// stream holds), through the same inbox as in service. Nothing else may
/// consume the durable meanwhile: the service stops its own consumer first
/// ([`Rebuilder`]). Refused, with nothing changed, when it would lose facts.
pub async fn replay(
    platform: &Platform,
    from_start: bool,
    mut report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let plan = plan(platform, from_start)
        .await?
        .map_err(anyhow::Error::new)?;
    match &plan.snapshot {
        Some(snapshot) => tracing::info!(
            snapshot = %snapshot.id,
            from_sequence = plan.start_sequence,
            "analytics rebuild: from the latest snapshot and the stream after it"
        ),
        None => tracing::info!(
            from_start,
            "analytics rebuild: from the start of what the stream holds"
        ),
    }
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
    facts::clear_from_stream(&txn).await?;
    boards::clear(&txn).await?;
    inbox::entity::Entity::delete_many()
        .filter(inbox::entity::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    dead_letter::Entity::delete_many()
        .filter(dead_letter::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    if let Some(snapshot) = &plan.snapshot {
        snapshots::restore(&txn, &snapshot.id).await?;
    }
    txn.commit().await.context("cannot clear the facts")?;
    inbox::create_from(&platform.jetstream, &consumer::spec(), plan.start_sequence).await?;
    let inbox = consumer::inbox(platform).await?;
    let drained = inbox.drain(|drained| report(progress(drained))).await?;
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
    Ok(progress(drained))
}

fn progress(drained: inbox::Drained) -> Progress {
    Progress {
        handled: drained.handled,
        remaining: drained.remaining,
    }
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
    platform: Platform,
    /// Cancelled when the service shuts down: no live consumer starts after.
    stopping: CancellationToken,
    /// Whether this service runs the live consumer (tests drive it by hand).
    consume: AtomicBool,
    live: tokio::sync::Mutex<Option<Live>>,
    status: std::sync::Mutex<RebuildStatus>,
}

/// The live consumer of the running service, and rebuilds that pause it.
#[derive(Clone)]
pub struct Rebuilder {
    inner: Arc<Inner>,
}

impl Rebuilder {
    /// Idle, with no live consumer until [`Rebuilder::run_live`].
    pub fn new(platform: Platform) -> Self {
        Self {
            inner: Arc::new(Inner {
                platform,
                stopping: CancellationToken::new(),
                consume: AtomicBool::new(false),
                live: tokio::sync::Mutex::new(None),
                status: std::sync::Mutex::new(RebuildStatus::idle()),
            }),
        }
    }

    /// From now until [`Rebuilder::shut_down`], run the live consumer when
    /// `consume` (a test that drives the consumer by hand says no), and
    /// after each rebuild again.
    pub async fn run_live(&self, consume: bool) -> anyhow::Result<()> {
        self.inner.consume.store(consume, Ordering::SeqCst);
        self.start_live().await
    }

    /// Stop the live consumer for good, waiting for the message in hand: no
    /// rebuild starts it again.
    pub async fn shut_down(&self) {
        self.inner.stopping.cancel();
        self.stop_live().await;
    }

    /// Start the live consumer (when this service runs one).
    async fn start_live(&self) -> anyhow::Result<()> {
        if !self.inner.consume.load(Ordering::SeqCst) || self.inner.stopping.is_cancelled() {
            return Ok(());
        }
        let mut live = self.inner.live.lock().await;
        if live.is_some() {
            return Ok(());
        }
        let platform = &self.inner.platform;
        let inbox = consumer::inbox(platform).await?;
        let watch = Arc::new(inbox.max_deliveries());
        let inbox = Arc::new(inbox);
        let stop = self.inner.stopping.child_token();
        let (token, watching) = (stop.clone(), stop.clone());
        let consuming = supervise(
            format!("consumer {}", inbox.name()),
            platform.workforce.clone(),
            platform.metrics.clone(),
            stop.clone(),
            move || {
                let inbox = inbox.clone();
                let token = token.clone();
                async move { inbox.run(token).await }
            },
        );
        let advisories = supervise(
            watch.name(),
            platform.workforce.clone(),
            platform.metrics.clone(),
            stop.clone(),
            move || {
                let watch = watch.clone();
                let token = watching.clone();
                async move { watch.run(token).await }
            },
        );
        let task = tokio::spawn(async move {
            tokio::join!(consuming, advisories);
        });
        *live = Some(Live { stop, task });
        Ok(())
    }

    /// Stop the live consumer and wait for the message in hand.
    async fn stop_live(&self) {
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

    /// Move the status on by `transition`, with `change` to the rest of it;
    /// an illegal transition changes nothing and answers the status as it is.
    fn update(
        &self,
        transition: Option<RebuildTransition>,
        change: impl FnOnce(&mut RebuildStatus),
    ) -> Result<RebuildStatus, RebuildStatus> {
        let mut status = self
            .inner
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(transition) = transition {
            match status.state.apply(transition) {
                Ok(next) => status.state = next,
                Err(_) => return Err(status.clone()),
            }
        }
        change(&mut status);
        Ok(status.clone())
    }

    /// Start a rebuild in the background; when one is running already,
    /// its status instead.
    fn begin(&self, requested_by: &str, from_start: bool) -> Result<RebuildStatus, RebuildStatus> {
        let started = self.update(Some(RebuildTransition::Began), |s| {
            *s = RebuildStatus {
                state: s.state,
                requested_by: Some(requested_by.to_owned()),
                started_at: Some(Utc::now()),
                ..RebuildStatus::idle()
            };
        })?;
        tracing::info!(requested_by, from_start, "analytics rebuild started");
        let this = self.clone();
        tokio::spawn(async move { this.run(from_start).await });
        Ok(started)
    }

    async fn run(self, from_start: bool) {
        self.stop_live().await;
        let result = replay(&self.inner.platform, from_start, |progress| {
            let _ = self.update(None, |s| {
                s.handled = progress.handled;
                s.remaining = progress.remaining;
            });
        })
        .await;
        let ended = match &result {
            Ok(progress) => {
                tracing::info!(handled = progress.handled, "analytics rebuild done");
                self.update(Some(RebuildTransition::Finished), |s| {
                    s.finished_at = Some(Utc::now());
                })
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "analytics rebuild failed");
                self.update(Some(RebuildTransition::Failed), |s| {
                    s.finished_at = Some(Utc::now());
                    s.error = Some(format!("{error:#}"));
                })
            }
        };
        if let Err(status) = ended {
            tracing::error!(
                state = status.state.as_str(),
                "a rebuild ended that was not running"
            );
        }
        if let Err(error) = self.start_live().await {
            tracing::error!(
                error = format!("{error:#}"),
                "cannot start the analytics consumer again after the rebuild"
            );
        }
    }
}
