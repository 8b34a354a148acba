//! The inbox: a durable pull consumer that handles each event exactly once.
//!
//! Each message is handled in one database transaction that first records
//! `(consumer, event_id)` in the `inbox` table (primary key), then applies the
//! handler's change and its outbox rows; only after the commit is the message
//! acknowledged. A redelivered message finds its inbox row and is acknowledged
//! without effect.
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
//! A crash at any point leaves the message unacknowledged or nak'd: it is
//! delivered again, and either its inbox row is there (committed: acked
//! without effect) or the transaction was rolled back (handled afresh).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

pub mod dead_letter;
pub mod entity;
mod spec;

pub use spec::ConsumerSpec;

use crate::db::is_unique_violation;
use crate::metrics::Metrics;
use crate::{outbox, telemetry};

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

/// A service's handling of one event, inside the inbox transaction.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
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
    consumer: jetstream::consumer::Consumer<pull::Config>,
    handler: H,
    metrics: Metrics,
    signal: outbox::OutboxSignal,
    /// Messages of this consumer waiting out a fault, by stream sequence.
    waiting: Mutex<HashMap<u64, Waiting>>,
}

/// A message that failed with a fault that may heal and has not been handled since.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    since: Instant,
    last_failed: Instant,
    retries: u64,
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
        // Create, or update a consumer created with other limits (an earlier
        // `max_deliver`) to these.
        let consumer = stream
            .create_consumer(config)
            .await
            .with_context(|| format!("cannot create the durable consumer {}", spec.durable))?;
        // Present (at zero) before anything waits, so an alert on it has a series.
        metrics.set_inbox_waiting(&spec.durable, 0);
        Ok(Self {
            spec,
            db,
            consumer,
            handler,
            metrics,
            signal,
            waiting: Mutex::new(HashMap::new()),
        })
    }

    /// Handle messages until `shutdown`; a message in flight is finished.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let messages = self
                .consumer
                .stream()
                .max_messages_per_batch(64)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await;
            let mut messages = match messages {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(%error, consumer = %self.spec.durable, "cannot pull: retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = shutdown.cancelled() => return,
                    }
                }
            };
            loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    () = shutdown.cancelled() => return,
                };
                match next {
                    Some(Ok(message)) => {
                        if let Err(error) = self.process(&message).await {
                            tracing::warn!(error = format!("{error:#}"), consumer = %self.spec.durable, "message left for redelivery");
                        }
                    }
                    Some(Err(error)) => {
                        // Missed heartbeats and the like: pull again.
                        tracing::warn!(%error, consumer = %self.spec.durable, "pull stream interrupted");
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
        let subject = message.subject.to_string();
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
            self.stop_waiting(message, outcome);
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
        self.start_waiting(message, delivered, error, delay);
        message
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Outcome::Retrying)
    }

    fn start_waiting(
        &self,
        message: &jetstream::Message,
        delivered: i64,
        error: &anyhow::Error,
        delay: Duration,
    ) {
        let sequence = stream_sequence(message);
        let now = Instant::now();
        let (first, waited) = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            let forget = self.spec.forget_waiting_after();
            waiting.retain(|_, w| now.duration_since(w.last_failed) < forget);
            let first = !waiting.contains_key(&sequence);
            let entry = waiting.entry(sequence).or_insert(Waiting {
                since: now,
                last_failed: now,
                retries: 0,
            });
            entry.last_failed = now;
            entry.retries += 1;
            let waited = now.duration_since(entry.since);
            self.metrics
                .set_inbox_waiting(&self.spec.durable, waiting.len());
            (first, waited)
        };
        let error = format!("{error:#}");
        if first {
            tracing::error!(
                consumer = %self.spec.durable,
                stream_sequence = sequence,
                subject = %message.subject,
                delivered,
                %error,
                ?delay,
                "a message waits out a fault that may heal: retrying until it does"
            );
        } else {
            tracing::warn!(
                consumer = %self.spec.durable,
                stream_sequence = sequence,
                delivered,
                %error,
                ?delay,
                ?waited,
                "still waiting out a fault: will retry"
            );
        }
    }

    /// `message` is settled (`outcome`): if it was waiting, it is no longer.
    fn stop_waiting(&self, message: &jetstream::Message, outcome: Outcome) {
        let sequence = stream_sequence(message);
        let ended = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            let ended = waiting.remove(&sequence);
            if ended.is_some() {
                self.metrics
                    .set_inbox_waiting(&self.spec.durable, waiting.len());
            }
            ended
        };
        if let Some(waited) = ended {
            tracing::info!(
                consumer = %self.spec.durable,
                stream_sequence = sequence,
                outcome = outcome.label(),
                retries = waited.retries,
                waited = ?waited.since.elapsed(),
                "a message that waited out a fault is settled"
            );
        }
    }

    async fn handle_once(
        &self,
        message: &jetstream::Message,
        event: &Event,
        subject: &str,
        delivered: i64,
    ) -> anyhow::Result<Outcome> {
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
        match self.handler.handle(&txn, event).await {
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
        let txn = self.db.begin().await?;
        // The inbox row makes the dead-lettering itself happen once.
        let seen = entity::ActiveModel {
            consumer: Set(self.spec.durable.clone()),
            event_id: Set(message_id.clone()),
            subject: Set(message.subject.to_string()),
            handled_at: Set(Utc::now()),
        };
        if let Err(error) = entity::Entity::insert(seen).exec(&txn).await {
            txn.rollback().await.ok();
            if is_unique_violation(&error) {
                ack(message).await?;
                return Ok(Outcome::Duplicate);
            }
            return Err(error.into());
        }
        let id = uuid::Uuid::now_v7().to_string();
        dead_letter::Entity::insert(dead_letter::ActiveModel {
            id: Set(id.clone()),
            consumer: Set(self.spec.durable.clone()),
            message_id: Set(message_id.clone()),
            subject: Set(message.subject.to_string()),
            payload: Set(message.payload.to_vec()),
            reason: Set(reason.to_owned()),
            deliveries: Set(delivered),
            dead_at: Set(Utc::now()),
            replayed_at: Set(None),
        })
        .exec(&txn)
        .await?;
        let mut headers = serde_json::Map::new();
        headers.insert(
            "Pathway-Dead-Letter-Reason".into(),
            truncate(reason, 1024).into(),
        );
        headers.insert(
            "Pathway-Original-Subject".into(),
            message.subject.to_string().into(),
        );
        headers.insert("Pathway-Consumer".into(), self.spec.durable.clone().into());
        outbox::enqueue_raw(
            &txn,
            &format!("dead-letter-{id}"),
            &stream::dead_letter_subject(&self.spec.durable),
            message.payload.to_vec(),
            headers,
        )
        .await?;
        txn.commit().await?;
        self.signal.notify();
        message
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        tracing::error!(%reason, %message_id, consumer = %self.spec.durable, "dead-lettered");
        Ok(Outcome::DeadLettered)
    }
}

/// The message's place in the stream, which names it across redeliveries.
fn stream_sequence(message: &jetstream::Message) -> u64 {
    message
        .info()
        .map(|info| info.stream_sequence)
        .unwrap_or_default()
}

async fn ack(message: &jetstream::Message) -> anyhow::Result<()> {
    message.ack().await.map_err(|e| anyhow::anyhow!(e))
}

fn truncate(text: &str, max: usize) -> String {
    // Header values cannot hold line breaks.
    let text = &text.replace(['\r', '\n'], " ");
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
#[path = "tests/inbox.rs"]
mod tests;
