//! The inbox: a durable pull consumer that handles each event exactly once.
//!
//! Each message is handled in one database transaction that first records
//! `(consumer, event_id)` in the `inbox` table (primary key), then applies the
//! handler's change and its outbox rows; only after the commit is the message
//! acknowledged. A redelivered message finds its inbox row and is acknowledged
//! without effect. What the handler needs from another service is asked for
//! before that transaction ([`Handler::prepare`]), so no transaction, and no
//! database connection, waits on another service.
//!
//! Failures fall in two classes, and the class alone decides the ack:
//!
//! - **Poison** — [`HandleError::Rejected`] (the event can never be handled)
//!   or a message that does not decode: dead-lettered at once. A dead letter
//!   is a row in `dead_letters` plus a copy on the dead-letter subject,
//!   written through the outbox in the same transaction, so their counts
//!   always agree.
//! - **A fault that may heal** — [`HandleError::Retry`] (a conflict, the
//!   database, NATS or another service not answering, a timeout, a 5xx, our
//!   own credentials refused) and any failure of the inbox's own transaction:
//!   nak'd with a capped exponential back-off with jitter
//!   ([`ConsumerSpec::backoff`]), **without a delivery limit**. How often it
//!   failed is never a reason to dead-letter it: it waits until the fault
//!   heals. Meanwhile it is counted in `pathway_inbox_waiting` (a gauge per
//!   consumer, back down once the message is handled) and each retry in
//!   `pathway_inbox_messages_total{outcome="retrying"}`; the first failure
//!   logs at `error`, the handling after waiting at `info`.
//!
//! The durable consumer has no `max_deliver` (it is unlimited, and an
//! existing consumer is updated to it), so JetStream never drops a message
//! that keeps failing behind our back and no `MAX_DELIVERIES` advisory is
//! raised for ours.
//!
//! [`Inbox::run`] ends with an error when its durable consumer is gone; its
//! supervisor ([`crate::supervisor`]) runs it again, which recreates it.
//!
//! A crash at any point leaves the message unacknowledged or nak'd: it is
//! delivered again, and either its inbox row is there (committed: acked
//! without effect) or the transaction was rolled back (handled afresh).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::{FutureExt as _, StreamExt};
use pathway_proto::stream;
use pathway_proto::v1::Event;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio_util::sync::CancellationToken;

pub mod advisory;
mod batch;
pub mod dead_letter;
mod drain;
pub mod entity;
mod spec;
mod waiting;

pub use drain::Drained;
pub use spec::{ConsumerSpec, DemoEvents, consumer_filters, covers};
use waiting::WaitingRoom;

use crate::metrics::Metrics;
use crate::outbox;

/// A message from the pull stream, or why the stream broke.
type PulledMessage = Result<jetstream::Message, pull::MessagesError>;

/// A gathered batch's messages, and the pull stream's error that ended it.
fn split(chunk: Vec<PulledMessage>) -> (Vec<jetstream::Message>, Option<pull::MessagesError>) {
    let mut batch = Vec::with_capacity(chunk.len());
    let mut interrupted = None;
    for next in chunk {
        match next {
            Ok(message) => batch.push(message),
            Err(error) => {
                interrupted.get_or_insert(error);
            }
        }
    }
    (batch, interrupted)
}

/// How long a consumer waits before pulling again after its pull stream
/// broke (missed heartbeats, no responders while its leader moves).
pub(crate) const PULL_AGAIN_AFTER: Duration = Duration::from_millis(500);

/// How a handler failed, which decides what happens to the message.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The event can never be handled (malformed, violates a contract): dead-letter it.
    #[error("rejected: {0}")]
    Rejected(String),
    /// A conflict or an infrastructure fault: try again later.
    #[error(transparent)]
    Retry(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for HandleError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Retry(error.into())
    }
}

/// A service's handling of one event: what it needs from elsewhere first,
/// then its change inside the inbox transaction.
pub trait Handler: Send + Sync + 'static {
    /// What handling needs from another service (intake's contact details),
    /// asked for before the inbox transaction begins, so that no
    /// transaction (and no database connection) waits on another service.
    type Prepared: Send;

    /// Ask for [`Handler::Prepared`]; a service that does not answer is a
    /// fault that may heal ([`HandleError::Retry`]). Not called for an event
    /// already handled.
    fn prepare(
        &self,
        event: &Event,
    ) -> impl Future<Output = Result<Self::Prepared, HandleError>> + Send;

    /// Apply the event, inside the inbox transaction.
    fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        prepared: Self::Prepared,
    ) -> impl Future<Output = Result<(), HandleError>> + Send;

    /// Whether handling `event` may write to the database before it
    /// answers: then, in a batch of several, it runs in a savepoint of its
    /// own with its inbox row, so a failure is rolled back alone. A handler
    /// that writes nothing in [`Handler::handle`] for `event` (it keeps its
    /// change for [`Handler::end_batch`], and only reads) answers `false`:
    /// the event is spared the savepoint, and its inbox row is written with
    /// the others' at the batch's end. `true` by default.
    fn writes_when_handling(&self, event: &Event) -> bool {
        let _ = event;
        true
    }

    /// A batch's transaction has begun, and `events` (those not handled
    /// before, in the order they will be) are about to be handled in it: a
    /// handler that keeps something for the whole batch starts it afresh
    /// here (what a batch that failed left behind is dropped), and may read
    /// what the events will need in one go. An error fails the batch: every
    /// message of it waits out the fault. Nothing by default.
    fn begin_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&Event],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = (txn, events);
        async { Ok(()) }
    }

    /// Every event of the batch has been handled, at least one of them
    /// successfully, and the transaction commits next: write what was kept
    /// for the whole batch. An event whose [`Handler::handle`] answered an
    /// error was rolled back to its savepoint, so a handler keeps what an
    /// event adds for the batch only once its `handle` answers `Ok`. An
    /// error fails the batch, as a failed commit would. Nothing by default.
    fn end_batch(
        &self,
        txn: &DatabaseTransaction,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = txn;
        async { Ok(()) }
    }

    /// The batch committed. For what must follow the commit and may be
    /// skipped by a crash without harm to the data (scrubbing the free space
    /// of a SQLite file, [`crate::db::scrub_free_space`]): it is not retried.
    /// Nothing by default.
    fn after_commit(&self, db: &DatabaseConnection) -> impl Future<Output = ()> + Send {
        let _ = db;
        async {}
    }
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    Duplicate,
    DeadLettered,
    Retrying,
    /// A demo event this consumer does not take in, acknowledged without
    /// effect.
    Ignored,
}

impl Outcome {
    /// Its name in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::Retrying => "retrying",
            Outcome::Ignored => "ignored_demo",
        }
    }
}

/// Runs a [`Handler`] over a durable pull consumer.
pub struct Inbox<H> {
    spec: ConsumerSpec,
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    handler: H,
    metrics: Metrics,
    signal: outbox::OutboxSignal,
    /// Messages of this consumer waiting out a fault.
    waiting: Arc<WaitingRoom>,
    /// Held for each batch's transaction, so that what a handler keeps for
    /// a batch ([`Handler::begin_batch`]) is never two batches' at once.
    one_batch_at_a_time: tokio::sync::Mutex<()>,
}

impl<H: Handler> Inbox<H> {
    /// Create (or bind to) the durable consumer on the pathway stream.
    pub async fn new(
        jetstream: &jetstream::Context,
        db: DatabaseConnection,
        spec: ConsumerSpec,
        handler: H,
        metrics: Metrics,
        signal: outbox::OutboxSignal,
    ) -> anyhow::Result<Self> {
        let consumer = bind(jetstream, &spec).await?;
        // Present (at zero) before anything waits, so an alert on it has a series.
        metrics.set_inbox_waiting(&spec.durable, 0);
        Ok(Self {
            spec,
            db,
            jetstream: jetstream.clone(),
            consumer,
            handler,
            metrics,
            signal,
            waiting: Arc::default(),
            one_batch_at_a_time: tokio::sync::Mutex::new(()),
        })
    }

    /// The durable consumer's name.
    pub fn name(&self) -> &str {
        &self.spec.durable
    }

    /// What turns this consumer's `MAX_DELIVERIES` advisories into dead
    /// letters; a message set aside so no longer counts as waiting.
    pub fn max_deliveries(&self) -> advisory::MaxDeliveries {
        advisory::MaxDeliveries {
            spec: self.spec.clone(),
            db: self.db.clone(),
            jetstream: self.jetstream.clone(),
            metrics: self.metrics.clone(),
            signal: self.signal.clone(),
            waiting: self.waiting.clone(),
        }
    }

    /// Handle messages until `shutdown`; a message in flight is finished.
    /// Answers an error when the durable consumer is gone (deleted by an
    /// operator, lost by the cluster) or cannot be pulled from: run again,
    /// it binds to the consumer afresh, creating it when it is missing.
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let consumer = bind(&self.jetstream, &self.spec).await?;
        loop {
            let messages = consumer
                .stream()
                .max_messages_per_batch(self.spec.max_batch)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await;
            let messages = messages.with_context(|| {
                format!(
                    "cannot pull from the durable consumer {}",
                    self.spec.durable
                )
            })?;
            // What has arrived by the time the last batch is done, and what
            // follows it closely, is the next batch: one message when they
            // trickle in, up to a pull's worth under load, each batch one
            // transaction.
            let mut messages = messages;
            loop {
                let first = tokio::select! {
                    first = messages.next() => first,
                    () = shutdown.cancelled() => return Ok(()),
                };
                let Some(first) = first else { break };
                let (batch, interrupted) =
                    split(self.gather(&mut messages, first, &shutdown).await);
                if let Err(error) = self.process_batch(&batch).await {
                    tracing::warn!(error = format!("{error:#}"), consumer = %self.spec.durable, "messages left for redelivery");
                }
                if let Some(error) = interrupted {
                    if self.pause_after(error, &shutdown).await? {
                        return Ok(());
                    }
                    break;
                }
            }
        }
    }

    /// The pull stream ended a batch with `error`: an error when the
    /// durable consumer was deleted; otherwise (missed heartbeats and the
    /// like) a pause before pulling again, since a consumer between leaders
    /// (a node lost) answers "no responders" at once. Whether `shutdown`
    /// came meanwhile.
    async fn pause_after(
        &self,
        error: pull::MessagesError,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        if error.kind() == pull::MessagesErrorKind::ConsumerDeleted {
            anyhow::bail!("the durable consumer {} was deleted", self.spec.durable);
        }
        tracing::warn!(%error, consumer = %self.spec.durable, "pull stream interrupted");
        Ok(tokio::select! {
            () = tokio::time::sleep(PULL_AGAIN_AFTER) => false,
            () = shutdown.cancelled() => true,
        })
    }

    /// A batch begun by `first`: the messages ready now, and each that
    /// arrives within [`ConsumerSpec::linger`] of the last, up to
    /// [`ConsumerSpec::max_batch`]; it ends early at an error of the pull
    /// stream (kept last), when the stream ends, or at shutdown.
    async fn gather(
        &self,
        messages: &mut pull::Stream,
        first: PulledMessage,
        shutdown: &CancellationToken,
    ) -> Vec<PulledMessage> {
        let mut batch = vec![first];
        while batch.len() < self.spec.max_batch && batch.last().is_some_and(Result::is_ok) {
            let next = match messages.next().now_or_never() {
                Some(next) => next,
                None => tokio::select! {
                    next = tokio::time::timeout(self.spec.linger, messages.next()) => {
                        let Ok(next) = next else { break };
                        next
                    }
                    () = shutdown.cancelled() => break,
                },
            };
            let Some(next) = next else { break };
            batch.push(next);
        }
        batch
    }

    /// Fetch and process at most `max` messages waiting now, as one batch;
    /// tests drive the consumer through this one step.
    pub async fn try_process_batch(&self, max: usize) -> anyhow::Result<Vec<Outcome>> {
        let mut fetched = self
            .consumer
            .fetch()
            .max_messages(max)
            .expires(Duration::from_millis(500))
            .messages()
            .await?;
        let mut messages = Vec::new();
        while let Some(message) = fetched.next().await {
            messages.push(message.map_err(|e| anyhow::anyhow!(e))?);
        }
        self.process_batch(&messages).await
    }

    /// Nak `message` with back-off after a fault that may heal, and count it
    /// as waiting.
    async fn retry_later(
        &self,
        message: &jetstream::Message,
        delivered: i64,
        error: &anyhow::Error,
    ) -> anyhow::Result<Outcome> {
        let delay = self.spec.backoff(delivered);
        self.waiting
            .enter(&self.spec, &self.metrics, message, delivered, error, delay);
        message
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Outcome::Retrying)
    }

    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        event: Option<&Event>,
        reason: &str,
        delivered: i64,
    ) -> anyhow::Result<Outcome> {
        let sequence = message
            .info()
            .map(|info| info.stream_sequence.to_string())
            .unwrap_or_default();
        let message_id = event
            .map(|e| e.event_id.clone())
            .unwrap_or_else(|| format!("stream-seq-{sequence}"));
        let subject = pathway_proto::stream::original_subject(&message.subject);
        let set_aside = dead_letter::set_aside(
            &self.db,
            dead_letter::Letter {
                consumer: &self.spec.durable,
                message_id: &message_id,
                subject: &subject,
                payload: &message.payload,
                reason,
                deliveries: delivered,
            },
        )
        .await?;
        if set_aside.is_none() {
            ack(message).await?;
            return Ok(Outcome::Duplicate);
        }
        self.signal.notify();
        message
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        tracing::error!(%reason, %message_id, consumer = %self.spec.durable, "dead-lettered");
        Ok(Outcome::DeadLettered)
    }
}

/// Create the durable consumer for `spec`, or update one created with other
/// limits (an earlier `max_deliver`) to these.
async fn bind(
    jetstream: &jetstream::Context,
    spec: &ConsumerSpec,
) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    bind_from(jetstream, spec, None).await
}

/// Create the durable consumer for `spec`, which must not exist, beginning
/// at the stream's message `start_sequence` rather than its first: analytics'
/// rebuild, after restoring a snapshot that holds every message before it.
/// [`Inbox::new`] binds to it afterwards as it is.
pub async fn create_from(
    jetstream: &jetstream::Context,
    spec: &ConsumerSpec,
    start_sequence: u64,
) -> anyhow::Result<()> {
    let policy = if start_sequence <= 1 {
        jetstream::consumer::DeliverPolicy::All
    } else {
        jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence }
    };
    bind_from(jetstream, spec, Some(policy)).await.map(|_| ())
}

async fn bind_from(
    jetstream: &jetstream::Context,
    spec: &ConsumerSpec,
    start: Option<jetstream::consumer::DeliverPolicy>,
) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    let stream = jetstream
        .get_stream(stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    // Where an existing consumer began stays as it was made (JetStream
    // refuses to change it): analytics' rebuild makes its consumer begin
    // after its latest snapshot of facts.
    let deliver_policy = match start {
        Some(policy) => policy,
        None => match stream.get_consumer::<pull::Config>(&spec.durable).await {
            Ok(existing) => existing.cached_info().config.deliver_policy,
            Err(_) => jetstream::consumer::DeliverPolicy::All,
        },
    };
    let config = pull::Config {
        durable_name: Some(spec.durable.clone()),
        filter_subjects: spec.filters.clone(),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: spec.ack_wait,
        // Unlimited: a fault that may heal is retried until it heals,
        // and poison is dead-lettered by us at its first delivery.
        max_deliver: -1,
        max_ack_pending: spec.max_ack_pending,
        deliver_policy,
        ..Default::default()
    };
    stream
        .create_consumer(config)
        .await
        .with_context(|| format!("cannot create the durable consumer {}", spec.durable))
}

/// The message's place in the stream, which names it across redeliveries.
pub(crate) fn stream_sequence(message: &jetstream::Message) -> u64 {
    message
        .info()
        .map(|info| info.stream_sequence)
        .unwrap_or_default()
}

async fn ack(message: &jetstream::Message) -> anyhow::Result<()> {
    message.ack().await.map_err(|e| anyhow::anyhow!(e))
}

#[cfg(test)]
#[path = "tests/inbox.rs"]
mod tests;
