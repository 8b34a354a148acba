//! The inbox: a durable pull consumer that handles each event exactly once.
//!
//! Each message is handled in one database transaction that first records
//! `(consumer, event_id)` in the `inbox` table (primary key), then applies the
//! handler's change and its outbox rows; only after the commit is the message
//! acknowledged. A redelivered message finds its inbox row and is acknowledged
//! without effect.
//!
//! Failures are classified by the handler: [`HandleError::Rejected`] (the
//! event can never be handled: dead-lettered at once) or
//! [`HandleError::Retry`] (a conflict or an infrastructure fault: nak with
//! back-off, dead-lettered after `max_deliveries`). A dead letter is a row in
//! `dead_letters` plus a copy on the dead-letter subject, written through the
//! outbox in the same transaction, so their counts always agree.

use std::future::Future;
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

use crate::db::is_unique_violation;
use crate::metrics::Metrics;
use crate::{outbox, telemetry};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub subject: String,
        pub handled_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dead_letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub consumer: String,
        /// The event id when the message could be decoded, else the stream sequence.
        pub message_id: String,
        pub subject: String,
        pub payload: Vec<u8>,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        pub deliveries: i64,
        pub dead_at: DateTimeUtc,
        pub replayed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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

/// What a consumer subscribes to and how hard it tries.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Durable consumer name, e.g. `intake-status`.
    pub durable: String,
    /// Subject filters, e.g. `pathway.v1.*.vetting.>`.
    pub filters: Vec<String>,
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliveries: i64,
    /// How long the broker waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Unacknowledged messages in flight, at most.
    pub max_ack_pending: i64,
}

impl ConsumerSpec {
    pub fn new(durable: &str, filters: Vec<String>) -> Self {
        Self {
            durable: durable.to_owned(),
            filters,
            max_deliveries: 5,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 256,
        }
    }

    /// Back-off before the next delivery after `delivered` failed ones.
    pub fn backoff(&self, delivered: i64) -> Duration {
        let exponent = u32::try_from(delivered.clamp(1, 8) - 1).unwrap_or(0);
        Duration::from_millis(200 * 2u64.pow(exponent)).min(Duration::from_secs(30))
    }
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
            // One more than ours: the broker's limit is a backstop for a
            // process that dies on the last delivery (see the advisory note
            // in docs/decisions).
            max_deliver: spec.max_deliveries + 1,
            max_ack_pending: spec.max_ack_pending,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(&spec.durable, config)
            .await
            .with_context(|| format!("cannot create the durable consumer {}", spec.durable))?;
        Ok(Self {
            spec,
            db,
            consumer,
            handler,
            metrics,
            signal,
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

    async fn process(&self, message: &jetstream::Message) -> anyhow::Result<Outcome> {
        let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
        let subject = message.subject.to_string();
        let event = match Event::decode(message.payload.as_ref()) {
            Ok(event) if !event.event_id.is_empty() && event.payload.is_some() => event,
            Ok(_) => {
                return self
                    .dead_letter(
                        message,
                        None,
                        "event has no event_id or no payload",
                        delivered,
                    )
                    .await;
            }
            Err(error) => {
                return self
                    .dead_letter(
                        message,
                        None,
                        &format!("cannot decode the event: {error}"),
                        delivered,
                    )
                    .await;
            }
        };
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
        let outcome = self
            .handle_once(message, &event, &subject, delivered)
            .instrument(span)
            .await?;
        self.metrics
            .record_inbox(&self.spec.durable, outcome.label());
        Ok(outcome)
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
                if delivered >= self.spec.max_deliveries {
                    let reason = format!("failed {delivered} deliveries; last error: {error:#}");
                    return self
                        .dead_letter(message, Some(event), &reason, delivered)
                        .await;
                }
                let delay = self.spec.backoff(delivered);
                tracing::warn!(
                    error = format!("{error:#}"),
                    ?delay,
                    "handling failed: will retry"
                );
                message
                    .ack_with(AckKind::Nak(Some(delay)))
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?;
                Ok(Outcome::Retrying)
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
