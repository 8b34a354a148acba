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
use chrono::Utc;
use futures::StreamExt;
use pathway_proto::stream;
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub mod advisory;
pub mod dead_letter;
pub mod entity;
mod spec;
mod waiting;

pub use spec::{ConsumerSpec, consumer_filters, covers};
use waiting::WaitingRoom;

use crate::db::is_unique_violation;
use crate::metrics::Metrics;
use crate::{outbox, telemetry};

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
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    Duplicate,
    DeadLettered,
    Retrying,
}

impl Outcome {
    /// Its name in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::Retrying => "retrying",
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
                .max_messages_per_batch(64)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await;
            let mut messages = messages.with_context(|| {
                format!(
                    "cannot pull from the durable consumer {}",
                    self.spec.durable
                )
            })?;
            loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    () = shutdown.cancelled() => return Ok(()),
                };
                match next {
                    Some(Ok(message)) => {
                        if let Err(error) = self.process(&message).await {
                            tracing::warn!(error = format!("{error:#}"), consumer = %self.spec.durable, "message left for redelivery");
                        }
                    }
                    Some(Err(error))
                        if error.kind() == pull::MessagesErrorKind::ConsumerDeleted =>
                    {
                        anyhow::bail!("the durable consumer {} was deleted", self.spec.durable);
                    }
                    Some(Err(error)) => {
                        // Missed heartbeats and the like: pull again.
                        tracing::warn!(%error, consumer = %self.spec.durable, "pull stream interrupted");
                        // A consumer between leaders (a node lost) answers
                        // "no responders" at once: pause rather than spin.
                        tokio::select! {
                            () = tokio::time::sleep(crate::inbox::PULL_AGAIN_AFTER) => {}
                            () = shutdown.cancelled() => return Ok(()),
                        }
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    /// Fetch and process at most `max` messages waiting now; tests drive the
    /// consumer through this one step.
    pub async fn try_process_batch(&self, max: usize) -> anyhow::Result<Vec<Outcome>> {
        let mut batch = self
            .consumer
            .fetch()
            .max_messages(max)
            .expires(Duration::from_millis(500))
            .messages()
            .await?;
        let mut outcomes = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| anyhow::anyhow!(e))?;
            outcomes.push(self.process(&message).await?);
        }
        Ok(outcomes)
    }

    /// Handle one message; `Err` only when not even the nak could be sent
    /// (the broker redelivers it after `ack_wait`).
    async fn process(&self, message: &jetstream::Message) -> anyhow::Result<Outcome> {
        let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
        // A replay is kept under the subject it replays, so that a replay
        // refused again can be replayed again.
        let subject = pathway_proto::stream::original_subject(&message.subject);
        let attempt = match Event::decode(message.payload.as_ref()) {
            Ok(event) if !event.event_id.is_empty() && event.payload.is_some() => {
                let span = tracing::info_span!(
                    "handle_event",
                    consumer = %self.spec.durable,
                    %subject,
                    event_id = %event.event_id,
                    referral_id = %event.referral_id,
                    delivered,
                );
                if let Some(headers) = message.headers.as_ref() {
                    telemetry::set_parent_from_headers(&span, headers);
                }
                self.handle_once(message, &event, &subject, delivered)
                    .instrument(span)
                    .await
            }
            Ok(_) => {
                self.dead_letter(
                    message,
                    None,
                    "event has no event_id or no payload",
                    delivered,
                )
                .await
            }
            Err(error) => {
                self.dead_letter(
                    message,
                    None,
                    &format!("cannot decode the event: {error}"),
                    delivered,
                )
                .await
            }
        };
        let outcome = match attempt {
            Ok(outcome) => outcome,
            // The inbox's own transaction or ack failed (the database or
            // NATS not answering): a fault that may heal like any other.
            Err(error) => self.retry_later(message, delivered, &error).await?,
        };
        if outcome != Outcome::Retrying {
            self.waiting
                .leave(&self.spec, &self.metrics, message, outcome);
        }
        self.metrics
            .record_inbox(&self.spec.durable, outcome.label());
        Ok(outcome)
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

    async fn handle_once(
        &self,
        message: &jetstream::Message,
        event: &Event,
        subject: &str,
        delivered: i64,
    ) -> anyhow::Result<Outcome> {
        let key = (self.spec.durable.clone(), event.event_id.clone());
        if entity::Entity::find_by_id(key)
            .one(&self.db)
            .await
            .context("cannot read the inbox")?
            .is_some()
        {
            ack(message).await?;
            tracing::debug!("already handled: acknowledged without effect");
            return Ok(Outcome::Duplicate);
        }
        let prepared = match self.handler.prepare(event).await {
            Ok(prepared) => prepared,
            Err(HandleError::Rejected(reason)) => {
                tracing::warn!(%reason, "event rejected");
                return self
                    .dead_letter(message, Some(event), &reason, delivered)
                    .await;
            }
            Err(HandleError::Retry(error)) => {
                return self.retry_later(message, delivered, &error).await;
            }
        };
        let txn = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let seen = entity::ActiveModel {
            consumer: Set(self.spec.durable.clone()),
            event_id: Set(event.event_id.clone()),
            subject: Set(subject.to_owned()),
            handled_at: Set(Utc::now()),
        };
        if let Err(error) = entity::Entity::insert(seen).exec(&txn).await {
            txn.rollback().await.ok();
            if is_unique_violation(&error) {
                ack(message).await?;
                tracing::debug!("already handled: acknowledged without effect");
                return Ok(Outcome::Duplicate);
            }
            return Err(anyhow::Error::from(error).context("cannot record the inbox row"));
        }
        match self.handler.handle(&txn, event, prepared).await {
            Ok(()) => {
                txn.commit()
                    .await
                    .context("cannot commit the handled event")?;
                self.signal.notify();
                ack(message).await?;
                Ok(Outcome::Handled)
            }
            Err(HandleError::Rejected(reason)) => {
                txn.rollback().await.ok();
                tracing::warn!(%reason, "event rejected");
                self.dead_letter(message, Some(event), &reason, delivered)
                    .await
            }
            Err(HandleError::Retry(error)) => {
                txn.rollback().await.ok();
                self.retry_later(message, delivered, &error).await
            }
        }
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
    let stream = jetstream
        .get_stream(stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    let config = pull::Config {
        durable_name: Some(spec.durable.clone()),
        filter_subjects: spec.filters.clone(),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: spec.ack_wait,
        // Unlimited: a fault that may heal is retried until it heals,
        // and poison is dead-lettered by us at its first delivery.
        max_deliver: -1,
        max_ack_pending: spec.max_ack_pending,
        deliver_policy: jetstream::consumer::DeliverPolicy::All,
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
