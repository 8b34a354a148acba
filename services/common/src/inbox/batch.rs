//! A batch of messages handled in one transaction.
//!
//! The messages that arrive together ([`super::ConsumerSpec::linger`]) are
//! decoded, those already in the inbox acknowledged without effect (one
//! query for the batch), and what
//! the rest need from other services asked for ([`Handler::prepare`]). Then
//! one transaction records each message's inbox row and applies its handler,
//! each inside a savepoint of its own: a message rejected or waiting out a
//! fault is rolled back alone, and the others commit together. A message
//! whose handler writes nothing as it handles it
//! ([`Handler::writes_when_handling`]) needs no savepoint: its inbox row is
//! written with the others' at the batch's end. Only after
//! the commit are they acknowledged, so a crash before it leaves every one
//! of them to be delivered again, and a crash after it finds their inbox
//! rows. One commit (one fsync on SQLite) per batch instead of one per
//! message is what lets a consumer keep up with a busy stream.
//!
//! Within a batch messages are handled in the order the stream delivered
//! them, as they were one at a time.
//!
//! A handler may keep what its events change for the whole batch and write
//! it once, just before the commit ([`Handler::begin_batch`],
//! [`Handler::end_batch`]); a failure there fails the batch as a failed
//! commit does, and a crash anywhere in it leaves the whole batch to be
//! delivered again.

use anyhow::Context;
use async_nats::jetstream;
use chrono::Utc;
use futures::StreamExt;
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};
use tracing::Instrument;

use super::{DemoEvents, HandleError, Handler, Inbox, Outcome, ack, entity};
use crate::db::{insert_rows_as_json, is_unique_violation};
use crate::telemetry;

/// Look-ups in other services ([`Handler::prepare`]) a batch makes at once.
const PREPARED_AT_ONCE: usize = 16;
/// Inbox rows per statement (4 columns each: well inside both databases'
/// limits on parameters).
const INBOX_ROWS_AT_ONCE: usize = 1_000;

/// The inbox row that records `item` as handled by `consumer`.
fn inbox_model(consumer: &str, item: &Item<'_>) -> entity::Model {
    entity::Model {
        consumer: consumer.to_owned(),
        event_id: item.event.event_id.clone(),
        subject: item.subject.clone(),
        handled_at: Utc::now(),
    }
}

/// Write `rows` to the inbox: on PostgreSQL in one statement
/// ([`insert_rows_as_json`]), on SQLite a statement per
/// [`INBOX_ROWS_AT_ONCE`]. A row already there fails the statement.
async fn insert_inbox_rows(
    txn: &DatabaseTransaction,
    rows: Vec<entity::Model>,
) -> anyhow::Result<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        return insert_rows_as_json::<entity::Entity>(txn, &rows, "")
            .await
            .context("cannot record the batch's inbox rows");
    }
    let rows: Vec<entity::ActiveModel> = rows
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect();
    for chunk in rows.chunks(INBOX_ROWS_AT_ONCE) {
        entity::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await
            .context("cannot record the batch's inbox rows")?;
    }
    Ok(())
}

/// A message that decoded to an event, on its way through the batch.
struct Item<'m> {
    /// Its place in the batch.
    index: usize,
    message: &'m jetstream::Message,
    event: Event,
    /// The subject it was published on (a replay's original one).
    subject: String,
    delivered: i64,
    span: tracing::Span,
}

/// What the transaction made of a prepared message; settled after it ends.
enum Pending {
    Handled,
    Duplicate,
    Rejected(String),
    Retry(anyhow::Error),
}

impl<H: Handler> Inbox<H> {
    /// Handle `messages` as one batch; `Err` only when not even a nak could
    /// be sent (the broker redelivers after `ack_wait`).
    pub(super) async fn process_batch(
        &self,
        messages: &[jetstream::Message],
    ) -> anyhow::Result<Vec<Outcome>> {
        let mut outcomes = vec![Outcome::Retrying; messages.len()];
        let mut items = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
            let problem = match Event::decode(message.payload.as_ref()) {
                Ok(event) if !event.event_id.is_empty() && event.payload.is_some() => {
                    if event.demo && self.spec.demo != DemoEvents::Take {
                        let attempt = self.not_taken(message, &event, delivered).await;
                        outcomes[index] = self.settle(message, delivered, attempt).await?;
                    } else {
                        items.push(self.item(index, message, event, delivered));
                    }
                    continue;
                }
                Ok(_) => "event has no event_id or no payload".to_owned(),
                Err(error) => format!("cannot decode the event: {error}"),
            };
            let attempt = self.dead_letter(message, None, &problem, delivered).await;
            outcomes[index] = self.settle(message, delivered, attempt).await?;
        }
        let unseen = match self.unseen(items).await {
            Ok(unseen) => unseen,
            Err((items, error)) => {
                for item in items {
                    let attempt = Err(anyhow::anyhow!("{error:#}"));
                    outcomes[item.index] =
                        self.settle(item.message, item.delivered, attempt).await?;
                }
                return Ok(outcomes);
            }
        };
        let mut fresh = Vec::with_capacity(unseen.len());
        for (item, handled) in unseen {
            if handled {
                let attempt = ack(item.message).await.map(|()| Outcome::Duplicate);
                outcomes[item.index] = self.settle(item.message, item.delivered, attempt).await?;
            } else {
                fresh.push(item);
            }
        }
        // What the messages need from other services is asked for side by
        // side (a look-up per message, one after another, would be the
        // batch's slowest part), and comes back in the batch's order.
        let asks: Vec<_> = fresh
            .iter()
            .map(|item| {
                self.handler
                    .prepare(&item.event)
                    .instrument(item.span.clone())
            })
            .collect();
        let answers: Vec<_> = futures::stream::iter(asks)
            .buffered(PREPARED_AT_ONCE)
            .collect()
            .await;
        let mut prepared = Vec::with_capacity(fresh.len());
        let mut readies = Vec::with_capacity(fresh.len());
        for (item, ready) in fresh.into_iter().zip(answers) {
            match ready {
                Ok(ready) => {
                    prepared.push(item);
                    readies.push(ready);
                }
                Err(error) => {
                    let pending = match error {
                        HandleError::Rejected(reason) => Pending::Rejected(reason),
                        HandleError::Retry(error) => Pending::Retry(error),
                    };
                    outcomes[item.index] = self.finish(&item, pending).await?;
                }
            }
        }
        if prepared.is_empty() {
            return Ok(outcomes);
        }
        let settled = match self.apply(&prepared, readies).await {
            Ok(pending) => pending,
            // The transaction itself failed (the database not answering):
            // nothing of it holds, every message waits out the fault.
            Err(error) => prepared
                .iter()
                .map(|_| Pending::Retry(anyhow::anyhow!("{error:#}")))
                .collect(),
        };
        let committed = settled.iter().any(|p| matches!(p, Pending::Handled));
        if committed {
            self.signal.notify();
        }
        for (item, pending) in prepared.iter().zip(settled) {
            outcomes[item.index] = self.finish(item, pending).await?;
        }
        Ok(outcomes)
    }

    fn item<'m>(
        &self,
        index: usize,
        message: &'m jetstream::Message,
        event: Event,
        delivered: i64,
    ) -> Item<'m> {
        // A replay is kept under the subject it replays, so that a replay
        // refused again can be replayed again.
        let subject = pathway_proto::stream::original_subject(&message.subject);
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
        Item {
            index,
            message,
            event,
            subject,
            delivered,
            span,
        }
    }

    /// Each item, and whether this consumer has handled its event already,
    /// in one query for the batch.
    async fn unseen<'m>(
        &self,
        items: Vec<Item<'m>>,
    ) -> Result<Vec<(Item<'m>, bool)>, (Vec<Item<'m>>, anyhow::Error)> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = items
            .iter()
            .map(|item| item.event.event_id.clone())
            .collect();
        let seen = entity::Entity::find()
            .filter(entity::Column::Consumer.eq(self.spec.durable.as_str()))
            .filter(crate::db::is_any_of(
                self.db.get_database_backend(),
                entity::Column::EventId,
                ids,
            ))
            .all(&self.db)
            .await;
        match seen {
            Ok(seen) => {
                let seen: std::collections::HashSet<String> =
                    seen.into_iter().map(|row| row.event_id).collect();
                Ok(items
                    .into_iter()
                    .map(|item| {
                        let handled = seen.contains(&item.event.event_id);
                        (item, handled)
                    })
                    .collect())
            }
            Err(error) => Err((
                items,
                anyhow::Error::from(error).context("cannot read the inbox"),
            )),
        }
    }

    /// The batch's transaction: each prepared message in a savepoint of its
    /// own (a message alone needs none: the transaction is its savepoint),
    /// then one commit. `Err` when the transaction as a whole failed.
    async fn apply(
        &self,
        prepared: &[Item<'_>],
        readies: Vec<H::Prepared>,
    ) -> anyhow::Result<Vec<Pending>> {
        let _one_batch = self.one_batch_at_a_time.lock().await;
        let txn = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let events: Vec<&Event> = prepared.iter().map(|item| &item.event).collect();
        self.handler
            .begin_batch(&txn, &events)
            .await
            .context("cannot begin the batch")?;
        let alone = prepared.len() == 1;
        let mut settled = Vec::with_capacity(prepared.len());
        // The inbox rows of the events handled without a savepoint, written
        // together before the commit; an event twice in one batch (delivered
        // again before its first delivery was settled) is handled once.
        let mut rows = Vec::new();
        let mut handled = std::collections::HashSet::new();
        for (item, ready) in prepared.iter().zip(readies) {
            let pending = if handled.contains(item.event.event_id.as_str()) {
                Pending::Duplicate
            } else if !self.handler.writes_when_handling(&item.event) {
                let pending = self
                    .handle_in(&txn, item, ready)
                    .instrument(item.span.clone())
                    .await;
                if matches!(pending, Pending::Handled) {
                    rows.push(inbox_model(&self.spec.durable, item));
                }
                pending
            } else if alone {
                self.apply_in(&txn, item, ready)
                    .instrument(item.span.clone())
                    .await?
            } else {
                let savepoint = txn.begin().await.context("cannot begin a savepoint")?;
                let pending = self
                    .apply_in(&savepoint, item, ready)
                    .instrument(item.span.clone())
                    .await?;
                if matches!(pending, Pending::Handled) {
                    savepoint.commit().await
                } else {
                    savepoint.rollback().await
                }
                .context("cannot end a savepoint")?;
                pending
            };
            if matches!(pending, Pending::Handled) {
                handled.insert(item.event.event_id.as_str());
            }
            settled.push(pending);
        }
        if settled.iter().any(|p| matches!(p, Pending::Handled)) {
            // Another instance handling one of these events meanwhile fails
            // the batch (a unique violation); delivered again, the batch
            // finds that event's row and leaves it out. On failure the
            // transaction is dropped, which rolls it back.
            insert_inbox_rows(&txn, rows).await?;
            self.handler
                .end_batch(&txn)
                .await
                .context("cannot end the batch")?;
            txn.commit()
                .await
                .context("cannot commit the handled events")?;
            self.handler.after_commit(&self.db).await;
        } else {
            txn.rollback().await.ok();
        }
        Ok(settled)
    }

    /// One message inside `txn` (the batch's transaction or a savepoint of
    /// it), which the caller commits only when it answers
    /// [`Pending::Handled`]. `Err` when its inbox row cannot be written for
    /// another reason than being there already: the database is failing.
    async fn apply_in(
        &self,
        txn: &DatabaseTransaction,
        item: &Item<'_>,
        ready: H::Prepared,
    ) -> anyhow::Result<Pending> {
        if let Err(error) =
            entity::Entity::insert(inbox_model(&self.spec.durable, item).into_active_model())
                .exec(txn)
                .await
        {
            if is_unique_violation(&error) {
                return Ok(Pending::Duplicate);
            }
            return Err(anyhow::Error::from(error).context("cannot record the inbox row"));
        }
        Ok(self.handle_in(txn, item, ready).await)
    }

    /// The handler's part of one message, inside `txn`.
    async fn handle_in(
        &self,
        txn: &DatabaseTransaction,
        item: &Item<'_>,
        ready: H::Prepared,
    ) -> Pending {
        match self.handler.handle(txn, &item.event, ready).await {
            Ok(()) => Pending::Handled,
            Err(HandleError::Rejected(reason)) => Pending::Rejected(reason),
            Err(HandleError::Retry(error)) => Pending::Retry(error),
        }
    }

    /// A demo event this consumer does not take in: acknowledged without
    /// effect, or dead-lettered as the sender's fault in production.
    async fn not_taken(
        &self,
        message: &jetstream::Message,
        event: &Event,
        delivered: i64,
    ) -> anyhow::Result<Outcome> {
        if self.spec.demo == DemoEvents::Refuse {
            let reason = "demo data is refused under PATHWAY_PROFILE=production";
            return self
                .dead_letter(message, Some(event), reason, delivered)
                .await;
        }
        ack(message).await.map(|()| Outcome::Ignored)
    }

    /// Settle one prepared message after its transaction: ack what was
    /// handled or was a duplicate, dead-letter what was rejected, nak what
    /// waits out a fault.
    async fn finish(&self, item: &Item<'_>, pending: Pending) -> anyhow::Result<Outcome> {
        let attempt = async {
            match pending {
                Pending::Handled => ack(item.message).await.map(|()| Outcome::Handled),
                Pending::Duplicate => {
                    tracing::debug!("already handled: acknowledged without effect");
                    ack(item.message).await.map(|()| Outcome::Duplicate)
                }
                Pending::Rejected(reason) => {
                    tracing::warn!(%reason, "event rejected");
                    self.dead_letter(item.message, Some(&item.event), &reason, item.delivered)
                        .await
                }
                Pending::Retry(error) => Err(error),
            }
        }
        .instrument(item.span.clone())
        .await;
        self.settle(item.message, item.delivered, attempt).await
    }

    /// Count what became of `message`; a failed `attempt` (the handler's
    /// fault that may heal, or the inbox's own transaction or ack failing:
    /// the database or NATS not answering) is nak'd with back-off.
    async fn settle(
        &self,
        message: &jetstream::Message,
        delivered: i64,
        attempt: anyhow::Result<Outcome>,
    ) -> anyhow::Result<Outcome> {
        let outcome = match attempt {
            Ok(outcome) => outcome,
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
}
