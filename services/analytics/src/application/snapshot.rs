//! Snapshots of the facts, for a rebuild to start from once the stream has
//! let its older events go (`docs/decisions/0029`): daily on whichever
//! instance gets there first ([`take_daily`], hourly on every instance, a
//! second the same Scottish day doing nothing), and when an operator asks
//! (`analytics snapshot`).
//!
//! Exactly once with several instances sharing the durable consumer: the
//! consumer's ack floor is read first (every message at or below it is
//! committed, its effect and its inbox row together), then the facts and the
//! inbox rows are copied in one transaction that sees one state of the
//! tables throughout (repeatable read on PostgreSQL; SQLite has one writer).
//! So every message up to the floor is in the snapshot, and one above it is
//! in the snapshot exactly when its inbox row is: replayed after a restore,
//! it is handled afresh or found handled, never both.
//!
//! A rebuild deletes the consumer and the facts while a snapshot may be
//! copying them on another instance: the consumer is read again before the
//! commit, and a snapshot whose consumer was made anew meanwhile is rolled
//! back. A crash at any point rolls back the snapshot's transaction (no
//! half snapshot), or, after the commit, leaves older snapshots the next
//! one prunes.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::platform::Platform;
use sea_orm::{AccessMode, DbBackend, IsolationLevel, TransactionTrait};

use crate::consumer::DURABLE;
use crate::domain::snapshot::KEEP;
use crate::store::{fact_snapshot, snapshots};

/// How often each instance looks whether today's snapshot is there.
pub const DAILY_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// How long after start an instance first looks: the live consumer has
/// caught up by then, and a service restarted in a loop does not copy its
/// facts each time.
pub const FIRST_CHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Who a daily snapshot is taken by.
pub const DAILY: &str = "daily";

/// The day's snapshot, unless it was taken already (by this instance or
/// another) or a rebuild runs here; answers how many were taken (0 or 1).
pub async fn take_daily(platform: &Platform, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let day = pathway_proto::days::day_of(now);
    if snapshots::taken_on(&platform.db, day).await? {
        return Ok(0);
    }
    Ok(take(platform, Some(day), DAILY, now)
        .await?
        .map_or(0, |_| 1))
}

/// Take a snapshot of everything a rebuild would otherwise work out again,
/// complete up to the durable consumer's ack floor, and keep only the
/// [`KEEP`] latest. `daily_on` names the day of a daily one (`None` when that
/// day's exists already); an operator's has none.
pub async fn take(
    platform: &Platform,
    daily_on: Option<NaiveDate>,
    taken_by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<fact_snapshot::Model>> {
    // The floor first: whatever is committed after it only adds to the copy.
    let before = consumer_state(platform).await?;
    let txn = match platform.db.get_database_backend() {
        DbBackend::Postgres => {
            platform
                .db
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadWrite),
                )
                .await?
        }
        _ => platform.db.begin().await?,
    };
    let header = snapshots::Header {
        stream_sequence: before.ack_floor,
        daily_on,
        taken_at: now,
        taken_by: taken_by.to_owned(),
        consumer: DURABLE,
    };
    let Some(taken) = snapshots::copy(&txn, &header).await? else {
        txn.rollback().await.ok();
        return Ok(None);
    };
    let after = consumer_state(platform).await;
    match after {
        Ok(after) if after.created == before.created => {}
        _ => {
            txn.rollback().await.ok();
            anyhow::bail!(
                "the durable consumer {DURABLE} was deleted or made anew while the snapshot was \
                 taken (a rebuild): nothing was kept; take it again once the rebuild is done"
            );
        }
    }
    txn.commit().await.context("cannot keep the snapshot")?;
    tracing::info!(
        snapshot = %taken.id,
        stream_sequence = taken.stream_sequence,
        facts = taken.facts,
        inbox_rows = taken.inbox_rows,
        taken_by,
        "analytics took a snapshot of its facts"
    );
    match snapshots::prune(&platform.db, KEEP).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "older snapshots of the facts removed"),
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "older snapshots of the facts left for the next snapshot to remove"
        ),
    }
    Ok(Some(taken))
}

/// What a snapshot needs of the durable consumer.
struct ConsumerState {
    /// Every stream message up to this one is acknowledged, so committed.
    ack_floor: u64,
    /// When it was made: a rebuild makes it anew.
    created: i128,
}

async fn consumer_state(platform: &Platform) -> anyhow::Result<ConsumerState> {
    let stream = platform
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer(DURABLE).await.map_err(|error| {
            anyhow::anyhow!(
                "cannot read the durable consumer {DURABLE} ({error}): is a rebuild under way? \
                 nothing was taken"
            )
        })?;
    let info = consumer
        .info()
        .await
        .context("cannot read the durable consumer")?;
    Ok(ConsumerState {
        ack_floor: info.ack_floor.stream_sequence,
        created: info.created.unix_timestamp_nanos(),
    })
}
