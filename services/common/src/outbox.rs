//! The outbox: a service writes the events it owes into this table in the
//! same transaction as its state change; the [`Relay`] publishes them to
//! JetStream with `Nats-Msg-Id` = event id and marks a row published only
//! once the stream has acknowledged it. A crash between commit and publish
//! leaves the row unpublished, so the relay publishes it after restart; a
//! crash between publish and marking re-publishes it, and the stream's
//! duplicate window drops the copy.
//!
//! Any number of instances of a service may share one PostgreSQL database:
//! each relay takes its batch in a transaction with `FOR UPDATE SKIP
//! LOCKED`, publishes it, marks it and commits, so two relays share the rows
//! and never publish or mark one row twice. An instance killed mid-batch
//! loses its connection, PostgreSQL releases its locks, and another relay
//! takes the rows (what the dead one had published is dropped by the
//! duplicate window). Batches of two relays may reach the stream in either
//! order; consumers never relied on one order, since a nak'd message comes
//! back after later ones. SQLite, the embedded default, runs one instance
//! per database file and reads its batch outside a transaction: its one
//! connection is not held while the stream answers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::Utc;
use pathway_proto::v1::Event;
use prost::Message;
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::telemetry;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// The message id: an event's UUIDv7 (time-ordered, so it also orders rows).
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub subject: String,
        pub payload: Vec<u8>,
        /// Extra headers as a JSON object (trace context, dead-letter reason).
        #[sea_orm(column_type = "Text")]
        pub headers: String,
        pub created_at: DateTimeUtc,
        pub published_at: Option<DateTimeUtc>,
        pub attempts: i32,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Queue `event` for publication, inside the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(db: &C, event: &Event) -> Result<(), DbErr> {
    let subject = event
        .subject()
        .ok_or_else(|| DbErr::Custom("an event without a payload cannot be published".into()))?;
    let mut headers = serde_json::Map::new();
    telemetry::inject_current_context(|key, value| {
        headers.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    });
    enqueue_raw(
        db,
        &event.event_id,
        &subject,
        event.encode_to_vec(),
        headers,
    )
    .await
}

/// Queue an arbitrary message (dead letters use this) with extra headers.
pub async fn enqueue_raw<C: ConnectionTrait>(
    db: &C,
    message_id: &str,
    subject: &str,
    payload: Vec<u8>,
    headers: serde_json::Map<String, serde_json::Value>,
) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        event_id: Set(message_id.to_owned()),
        subject: Set(subject.to_owned()),
        payload: Set(payload),
        headers: Set(serde_json::Value::Object(headers).to_string()),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    };
    entity::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Wakes the relay after a commit, so events go out without waiting for the poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// What one batch came to: how many rows went out and were marked, and
/// the first row the stream did not acknowledge.
#[derive(Default)]
struct Batch {
    published: usize,
    failure: Option<anyhow::Error>,
}

/// Publishes unpublished outbox rows, oldest first.
pub struct Relay {
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    signal: OutboxSignal,
    metrics: Metrics,
    batch_size: u64,
    poll_interval: Duration,
}

impl Relay {
    pub fn new(
        db: DatabaseConnection,
        jetstream: jetstream::Context,
        signal: OutboxSignal,
        metrics: Metrics,
    ) -> Self {
        Self {
            db,
            jetstream,
            signal,
            metrics,
            batch_size: 256,
            poll_interval: Duration::from_millis(500),
        }
    }

    /// Publish at most `size` rows per batch (256 unless set).
    #[must_use]
    pub fn with_batch_size(mut self, size: u64) -> Self {
        self.batch_size = Ord::max(size, 1);
        self
    }

    /// Publish one batch; returns how many rows were published. Tests drive
    /// the relay through this one step.
    pub async fn try_publish_batch(&self) -> anyhow::Result<usize> {
        let batch = if self.db.get_database_backend() == DatabaseBackend::Sqlite {
            self.publish_batch(&self.db).await?
        } else {
            // The batch stays locked until it is marked: another relay skips it.
            let txn = self
                .db
                .begin()
                .await
                .context("cannot begin the outbox transaction")?;
            let batch = self.publish_batch(&txn).await?;
            txn.commit()
                .await
                .context("cannot commit the published outbox rows")?;
            batch
        };
        self.metrics.outbox_published.inc_by(batch.published as u64);
        match batch.failure {
            Some(error) => Err(error),
            None => Ok(batch.published),
        }
    }

    /// Read a batch through `db`, publish it, and mark what the stream
    /// acknowledged; `Err` only when the database failed.
    async fn publish_batch<C: ConnectionTrait>(&self, db: &C) -> anyhow::Result<Batch> {
        let rows = entity::Entity::find()
            .filter(entity::Column::PublishedAt.is_null())
            .order_by_asc(entity::Column::EventId)
            .limit(self.batch_size)
            // Ignored by SQLite, where one instance has the file.
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(db)
            .await
            .context("cannot read the outbox")?;
        if rows.is_empty() {
            return Ok(Batch::default());
        }
        // Send the whole batch, then wait for the acks: one round trip per
        // batch rather than per event, in order.
        let mut pending = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut headers = HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, row.event_id.as_str());
            if let Ok(serde_json::Value::Object(extra)) =
                serde_json::from_str::<serde_json::Value>(&row.headers)
            {
                for (key, value) in extra {
                    if let serde_json::Value::String(value) = value {
                        headers.insert(key.as_str(), value.as_str());
                    }
                }
            }
            let ack = self
                .jetstream
                .publish_with_headers(row.subject.clone(), headers, row.payload.clone().into())
                .await;
            pending.push((row.event_id.clone(), ack));
        }
        let mut published = Vec::with_capacity(pending.len());
        let mut failure = None;
        for (event_id, ack) in pending {
            let result = match ack {
                Ok(future) => future.await.map(|_| ()).map_err(anyhow::Error::from),
                Err(error) => Err(anyhow::Error::from(error)),
            };
            match result {
                Ok(()) => published.push(event_id),
                Err(error) => {
                    failure = Some((event_id, error));
                    break;
                }
            }
        }
        let count = published.len();
        if !published.is_empty() {
            entity::Entity::update_many()
                .col_expr(entity::Column::PublishedAt, Expr::value(Utc::now()))
                .filter(crate::db::is_any_of(
                    db.get_database_backend(),
                    entity::Column::EventId,
                    published,
                ))
                .exec(db)
                .await
                .context("cannot mark outbox rows published")?;
        }
        if let Some((event_id, error)) = failure {
            entity::Entity::update_many()
                .col_expr(
                    entity::Column::Attempts,
                    Expr::col(entity::Column::Attempts).add(1),
                )
                .col_expr(entity::Column::LastError, Expr::value(format!("{error:#}")))
                .filter(entity::Column::EventId.eq(event_id.clone()))
                .exec(db)
                .await
                .context("cannot record the outbox failure")?;
            return Ok(Batch {
                published: count,
                failure: Some(error.context(format!("publishing {event_id} was not acknowledged"))),
            });
        }
        Ok(Batch {
            published: count,
            failure: None,
        })
    }

    /// Delete rows published more than `older_than` ago.
    pub async fn prune(&self, older_than: Duration) -> anyhow::Result<u64> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(older_than).unwrap_or_else(|_| chrono::Duration::days(1));
        let result = entity::Entity::delete_many()
            .filter(entity::Column::PublishedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Publish until `shutdown`, then flush what is left once.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        let mut last_prune = tokio::time::Instant::now();
        loop {
            match self.try_publish_batch().await {
                Ok(n) => {
                    backoff = Duration::from_millis(100);
                    if n > 0 {
                        continue;
                    }
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "outbox relay: will retry");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {},
                        () = shutdown.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = tokio::time::Instant::now();
                if let Err(error) = self.prune(Duration::from_secs(24 * 3600)).await {
                    tracing::warn!(error = format!("{error:#}"), "outbox prune failed");
                }
            }
            tokio::select! {
                () = self.signal.0.notified() => {},
                () = tokio::time::sleep(self.poll_interval) => {},
                () = shutdown.cancelled() => break,
            }
        }
        // Flush what was committed before the stop.
        match self.try_publish_batch().await {
            Ok(n) if n > 0 => tracing::info!(published = n, "outbox flushed at shutdown"),
            Ok(_) => {}
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "outbox not flushed at shutdown: the rows stay and go out at the next start"
            ),
        }
    }
}
