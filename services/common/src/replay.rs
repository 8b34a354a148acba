//! Replaying a dead letter after its cause is fixed, through the same inbox.
//!
//! One dead letter is replayed in one transaction: the refusing consumer's
//! inbox row for its message id is deleted (so that consumer handles it
//! afresh), `replayed_at` is set (only if it was unset: two replays race to
//! one winner), a copy of the stored payload is enqueued through the outbox
//! on the refusing consumer's own replay subject
//! (`pathway.v1.replay.for.<consumer>.…`, which no other consumer's filter
//! matches, so a service publishes only its own replays) with a message id
//! of its own (`replay-<id>`, so the broker's duplicate window does not drop
//! it), and an audit row is written. A consumer of every subject (analytics)
//! still has its inbox row for the event id and acknowledges the copy
//! without effect.
//!
//! A crash before the commit changes nothing; after it, the outbox publishes
//! the copy. If the copy is refused again, it is dead-lettered again as a new
//! row: the inbox row it would collide with was deleted here.

use chrono::Utc;
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::inbox::{dead_letter, entity as inbox_row};
use crate::outbox;

/// The audit action of a replay.
pub const ACTION: &str = "dead_letter.replay";

/// Why a dead letter was not replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no dead letter {0:?} in this service")]
    NotFound(String),
    #[error("dead letter {0:?} was already replayed")]
    AlreadyReplayed(String),
    /// Its payload is not a Pathway event: no consumer can ever handle it.
    #[error("dead letter {0:?} does not hold an event that can be handled")]
    NotAnEvent(String),
    #[error("the database did not answer")]
    Database(#[from] DbErr),
}

/// The outbox message id of a dead letter's replay.
pub fn message_id(dead_letter_id: &str) -> String {
    format!("replay-{dead_letter_id}")
}

/// Whether a stored payload is an event a consumer could handle.
pub fn replayable(payload: &[u8]) -> bool {
    Event::decode(payload).is_ok_and(|e| !e.event_id.is_empty() && e.payload.is_some())
}

/// Replay dead letter `id` for `caller`; the dead letter as it is now.
pub async fn replay_one(
    db: &DatabaseConnection,
    caller: &Caller,
    id: &str,
) -> Result<dead_letter::Model, ReplayError> {
    let txn = db.begin().await?;
    let row = dead_letter::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| ReplayError::NotFound(id.to_owned()))?;
    if row.replayed_at.is_some() {
        return Err(ReplayError::AlreadyReplayed(row.id));
    }
    if !replayable(&row.payload) {
        return Err(ReplayError::NotAnEvent(row.id));
    }
    let now = Utc::now();
    // Only if still unset: of two concurrent replays, one wins.
    let claimed = dead_letter::Entity::update_many()
        .col_expr(dead_letter::Column::ReplayedAt, Expr::value(now))
        .filter(dead_letter::Column::Id.eq(row.id.as_str()))
        .filter(dead_letter::Column::ReplayedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ReplayError::AlreadyReplayed(row.id));
    }
    inbox_row::Entity::delete_many()
        .filter(inbox_row::Column::Consumer.eq(row.consumer.as_str()))
        .filter(inbox_row::Column::EventId.eq(row.message_id.as_str()))
        .exec(&txn)
        .await?;
    let mut headers = serde_json::Map::new();
    headers.insert("Pathway-Replay-Of".into(), row.id.clone().into());
    headers.insert("Pathway-Consumer".into(), row.consumer.clone().into());
    outbox::enqueue_raw(
        &txn,
        &message_id(&row.id),
        &pathway_proto::stream::replay_subject(&row.consumer, &row.subject),
        row.payload.clone(),
        headers,
    )
    .await?;
    record(&txn, caller, &row).await?;
    txn.commit().await?;
    Ok(dead_letter::Model {
        replayed_at: Some(now),
        ..row
    })
}

async fn record<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    row: &dead_letter::Model,
) -> Result<(), DbErr> {
    let purpose = format!(
        "replay dead letter {} for consumer {} (message {})",
        row.id, row.consumer, row.message_id
    );
    let event = Event::decode(row.payload.as_slice()).ok();
    let referral_id = event
        .as_ref()
        .map(|e| e.referral_id.clone())
        .filter(|r| !r.is_empty());
    let board = event
        .as_ref()
        .map(|e| e.board.as_str())
        .filter(|b| !b.is_empty());
    audit::record(
        db,
        AuditEntry {
            actor: &caller.subject,
            actor_role: caller.role.as_str(),
            action: ACTION,
            referral_id,
            board,
            source: &caller.source,
            purpose: Some(&purpose),
        },
    )
    .await
}

/// The ids of every dead letter not yet replayed, optionally of one
/// consumer, oldest first.
pub async fn pending(
    db: &DatabaseConnection,
    consumer: Option<&str>,
) -> Result<Vec<dead_letter::Model>, DbErr> {
    let mut select = dead_letter::Entity::find().filter(dead_letter::Column::ReplayedAt.is_null());
    if let Some(consumer) = consumer {
        select = select.filter(dead_letter::Column::Consumer.eq(consumer));
    }
    select.order_by_asc(dead_letter::Column::Id).all(db).await
}

#[cfg(test)]
#[path = "tests/replay.rs"]
mod tests;
