//! `MAX_DELIVERIES` advisories become dead letters, so that nothing vanishes
//! silently.
//!
//! Our durable consumers have no delivery limit, so JetStream never gives up
//! on one of their messages. A consumer can still have one: created or edited
//! by an operator (`nats consumer edit`), or by an older release during a
//! rolling upgrade, before [`super::Inbox::run`] binds to it again. Then
//! JetStream stops redelivering a message that keeps failing and raises a
//! `MAX_DELIVERIES` advisory, which the `PATHWAY_ADVISORIES` stream keeps.
//! [`MaxDeliveries`] takes each advisory for one consumer, reads the message
//! it names from the pathway stream and sets it aside as a dead letter
//! ([`super::dead_letter::set_aside`]), once, and only when the consumer had
//! not handled it; an operator can then replay it like any other.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, AckKind, consumer::pull, stream::DirectGetErrorKind};
use futures::StreamExt;
use pathway_proto::stream;
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::dead_letter::{self, Letter};
use super::{ConsumerSpec, waiting::WaitingRoom};
use crate::metrics::Metrics;
use crate::outbox::OutboxSignal;

/// How long an advisory that could not be turned into a dead letter (the
/// database or NATS not answering) waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What a `MAX_DELIVERIES` advisory says (`io.nats.jetstream.advisory.v1.max_deliver`).
#[derive(Debug, Deserialize)]
struct Advisory {
    stream_seq: u64,
    deliveries: i64,
}

/// Turns the `MAX_DELIVERIES` advisories of one durable consumer into dead
/// letters ([`super::Inbox::max_deliveries`]).
pub struct MaxDeliveries {
    /// The consumer whose advisories these are.
    pub(super) spec: ConsumerSpec,
    pub(super) db: DatabaseConnection,
    pub(super) jetstream: jetstream::Context,
    pub(super) metrics: Metrics,
    pub(super) signal: OutboxSignal,
    /// The consumer's messages waiting out a fault.
    pub(super) waiting: Arc<WaitingRoom>,
}

impl MaxDeliveries {
    /// Its worker's name.
    pub fn name(&self) -> String {
        format!("advisories {}", self.spec.durable)
    }

    /// Take advisories until `shutdown`; an error when the advisory consumer
    /// cannot be created or pulled from (run again, it binds afresh).
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let advisories = self
            .jetstream
            .get_stream(stream::ADVISORY_STREAM)
            .await
            .context("the stream of delivery advisories is missing")?;
        let durable = format!("{}-max-deliveries", self.spec.durable);
        let consumer = advisories
            .create_consumer(pull::Config {
                durable_name: Some(durable.clone()),
                filter_subject: stream::max_deliveries_subject(&self.spec.durable),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                max_deliver: -1,
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .with_context(|| format!("cannot create the durable consumer {durable}"))?;
        loop {
            let mut messages = consumer
                .stream()
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
                .with_context(|| format!("cannot pull from {durable}"))?;
            loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    () = shutdown.cancelled() => return Ok(()),
                };
                match next {
                    Some(Ok(message)) => self.take(&message).await,
                    Some(Err(error))
                        if error.kind() == pull::MessagesErrorKind::ConsumerDeleted =>
                    {
                        anyhow::bail!("the durable consumer {durable} was deleted");
                    }
                    Some(Err(error)) => {
                        tracing::warn!(%error, consumer = %durable, "pull stream interrupted");
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

    /// Turn one advisory into a dead letter and acknowledge it; when that
    /// cannot be done now, try again later.
    async fn take(&self, message: &jetstream::Message) {
        let settled = match serde_json::from_slice::<Advisory>(&message.payload) {
            Ok(advisory) => match self.set_aside(&advisory).await {
                Ok(()) => message.ack().await,
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        consumer = %self.spec.durable,
                        stream_sequence = advisory.stream_seq,
                        "cannot set aside a message JetStream gave up on yet: will retry"
                    );
                    message.ack_with(AckKind::Nak(Some(RETRY_AFTER))).await
                }
            },
            Err(error) => {
                tracing::error!(%error, subject = %message.subject, "an advisory that does not parse: skipped");
                message.ack_with(AckKind::Term).await
            }
        };
        if let Err(error) = settled {
            tracing::warn!(%error, "cannot acknowledge an advisory: it comes again");
        }
    }

    async fn set_aside(&self, advisory: &Advisory) -> anyhow::Result<()> {
        let pathway = self
            .jetstream
            .get_stream(stream::NAME)
            .await
            .context("the pathway stream is missing")?;
        let gone = |reason: &str| {
            format!(
                "JetStream stopped redelivering it after {} deliveries (MAX_DELIVERIES): {reason}",
                advisory.deliveries
            )
        };
        let by_sequence = format!("stream-seq-{}", advisory.stream_seq);
        let (subject, payload, message_id, reason) =
            match pathway.direct_get(advisory.stream_seq).await {
                Ok(original) => {
                    let event_id = Event::decode(original.payload.as_ref())
                        .ok()
                        .map(|event| event.event_id)
                        .filter(|id| !id.is_empty());
                    (
                        original.subject.to_string(),
                        original.payload,
                        event_id.unwrap_or(by_sequence),
                        gone("find why it kept failing, then replay it"),
                    )
                }
                Err(error) if error.kind() == DirectGetErrorKind::NotFound => (
                    String::new(),
                    Default::default(),
                    by_sequence,
                    gone("the message is no longer in the stream, so it cannot be replayed"),
                ),
                Err(error) => {
                    return Err(anyhow::Error::new(error).context("cannot read the message"));
                }
            };
        let set_aside = dead_letter::set_aside(
            &self.db,
            Letter {
                consumer: &self.spec.durable,
                message_id: &message_id,
                subject: &subject,
                payload: &payload,
                reason: &reason,
                deliveries: advisory.deliveries,
            },
        )
        .await
        .context("cannot record the dead letter")?;
        // JetStream delivers it no more: it waits for nothing now.
        self.waiting
            .forget(&self.spec, &self.metrics, advisory.stream_seq);
        match set_aside {
            Some(id) => {
                self.signal.notify();
                self.metrics
                    .record_inbox(&self.spec.durable, "dead_lettered");
                tracing::error!(
                    consumer = %self.spec.durable,
                    %message_id,
                    dead_letter = %id,
                    deliveries = advisory.deliveries,
                    "JetStream gave up on a message: dead-lettered"
                );
            }
            None => tracing::info!(
                consumer = %self.spec.durable,
                %message_id,
                "JetStream gave up on a message already handled: nothing to set aside"
            ),
        }
        Ok(())
    }
}
