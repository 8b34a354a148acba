//! Snapshots of what analytics built from the stream: the facts (not the
//! imported baseline, which no stream gives back), the boards' histories,
//! and the consumer's inbox rows and dead letters, each row kept as the JSON
//! of its entity in `fact_snapshot_rows` under one `fact_snapshots` row.
//!
//! The metrics' counters are not kept: they are worked out from the facts
//! ([`aggregates::recompute_all`]) when a snapshot is restored, as a rebuild
//! did already.
//!
//! [`copy`] and [`restore`] run in the caller's transaction: a crash in
//! either rolls back, leaving no half snapshot and no half-restored facts.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::db::is_unique_violation;
use pathway_common::inbox::{dead_letter, entity as inbox};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{aggregates, fact, fact_snapshot, fact_snapshot_row, pathway_change, settings_change};
use crate::domain::baseline;

/// Rows read, or written, per statement.
const PAGE: u64 = 500;

/// The table a snapshot's row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fact,
    PathwayChange,
    SettingsChange,
    Inbox,
    DeadLetter,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Fact,
        Kind::PathwayChange,
        Kind::SettingsChange,
        Kind::Inbox,
        Kind::DeadLetter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fact => "fact",
            Kind::PathwayChange => "pathway_change",
            Kind::SettingsChange => "settings_change",
            Kind::Inbox => "inbox",
            Kind::DeadLetter => "dead_letter",
        }
    }
}

/// What a new snapshot says of itself.
#[derive(Debug, Clone)]
pub struct Header {
    /// Every message up to this stream sequence is in it.
    pub stream_sequence: u64,
    /// The Scottish day of a daily snapshot.
    pub daily_on: Option<NaiveDate>,
    pub taken_at: DateTime<Utc>,
    pub taken_by: String,
    /// The durable consumer whose inbox rows and dead letters it keeps.
    pub consumer: &'static str,
}

/// Copy everything a rebuild would otherwise work out again into a new
/// snapshot, in `txn` (which must see one state of the tables throughout:
/// repeatable read on PostgreSQL). `None` when `header` is a daily one and
/// that day's was taken already; the caller rolls back then.
pub async fn copy(
    txn: &impl ConnectionTrait,
    header: &Header,
) -> anyhow::Result<Option<fact_snapshot::Model>> {
    let id = uuid::Uuid::now_v7().to_string();
    let row = fact_snapshot::Model {
        id: id.clone(),
        stream_sequence: i64::try_from(header.stream_sequence)
            .context("a stream sequence past i64")?,
        daily_on: header.daily_on.map(|day| day.to_string()),
        taken_at: header.taken_at,
        taken_by: header.taken_by.clone(),
        facts: 0,
        inbox_rows: 0,
    };
    // First, so a second instance taking the same day's snapshot stops here
    // (waiting, on PostgreSQL, for the first to commit or roll back).
    match fact_snapshot::Entity::insert(row.clone().into_active_model())
        .exec(txn)
        .await
    {
        Ok(_) => {}
        Err(error) if header.daily_on.is_some() && is_unique_violation(&error) => return Ok(None),
        Err(error) => return Err(error).context("cannot record a snapshot"),
    }
    let mut writer = Writer::new(&id);

    let mut after = String::new();
    let mut facts = 0;
    loop {
        let page = fact::Entity::find()
            .filter(fact::Column::ReferralId.not_like(format!("{}%", baseline::PREFIX)))
            .filter(fact::Column::ReferralId.gt(after.clone()))
            .order_by_asc(fact::Column::ReferralId)
            .limit(PAGE)
            .all(txn)
            .await
            .context("cannot read the facts")?;
        let Some(last) = page.last() else { break };
        after = last.referral_id.clone();
        facts += page.len() as i64;
        writer.write(txn, Kind::Fact, &page).await?;
    }

    let changes = pathway_change::Entity::find()
        .order_by_asc(pathway_change::Column::EventId)
        .all(txn)
        .await
        .context("cannot read the pathway changes")?;
    writer.write(txn, Kind::PathwayChange, &changes).await?;
    let settings = settings_change::Entity::find()
        .order_by_asc(settings_change::Column::EventId)
        .all(txn)
        .await
        .context("cannot read the settings changes")?;
    writer.write(txn, Kind::SettingsChange, &settings).await?;

    let mut after = String::new();
    let mut inbox_rows = 0;
    loop {
        let page = inbox::Entity::find()
            .filter(inbox::Column::Consumer.eq(header.consumer))
            .filter(inbox::Column::EventId.gt(after.clone()))
            .order_by_asc(inbox::Column::EventId)
            .limit(PAGE)
            .all(txn)
            .await
            .context("cannot read the inbox")?;
        let Some(last) = page.last() else { break };
        after = last.event_id.clone();
        inbox_rows += page.len() as i64;
        writer.write(txn, Kind::Inbox, &page).await?;
    }

    let letters = dead_letter::Entity::find()
        .filter(dead_letter::Column::Consumer.eq(header.consumer))
        .order_by_asc(dead_letter::Column::Id)
        .all(txn)
        .await
        .context("cannot read the dead letters")?;
    writer.write(txn, Kind::DeadLetter, &letters).await?;

    let mut counted = row.into_active_model();
    counted.facts = Set(facts);
    counted.inbox_rows = Set(inbox_rows);
    let counted = fact_snapshot::Entity::update(counted)
        .exec(txn)
        .await
        .context("cannot count a snapshot's rows")?;
    Ok(Some(counted))
}

/// Appends rows of each kind to one snapshot.
struct Writer<'a> {
    snapshot_id: &'a str,
    positions: [i64; Kind::ALL.len()],
}

impl<'a> Writer<'a> {
    fn new(snapshot_id: &'a str) -> Self {
        Self {
            snapshot_id,
            positions: [0; Kind::ALL.len()],
        }
    }

    async fn write<T: Serialize>(
        &mut self,
        txn: &impl ConnectionTrait,
        kind: Kind,
        rows: &[T],
    ) -> anyhow::Result<()> {
        let slot = Kind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default();
        for chunk in rows.chunks(PAGE as usize) {
            let mut models = Vec::with_capacity(chunk.len());
            for row in chunk {
                self.positions[slot] += 1;
                models.push(fact_snapshot_row::ActiveModel {
                    snapshot_id: Set(self.snapshot_id.to_owned()),
                    kind: Set(kind.as_str().to_owned()),
                    position: Set(self.positions[slot]),
                    body: Set(serde_json::to_string(row).context("a row that does not write")?),
                });
            }
            fact_snapshot_row::Entity::insert_many(models)
                .exec(txn)
                .await
                .with_context(|| format!("cannot write a snapshot's {} rows", kind.as_str()))?;
        }
        Ok(())
    }
}

/// The latest snapshot, if any.
pub async fn latest(db: &impl ConnectionTrait) -> anyhow::Result<Option<fact_snapshot::Model>> {
    fact_snapshot::Entity::find()
        .order_by_desc(fact_snapshot::Column::Id)
        .one(db)
        .await
        .context("cannot read the snapshots")
}

/// Whether the daily snapshot of `day` was taken.
pub async fn taken_on(db: &impl ConnectionTrait, day: NaiveDate) -> anyhow::Result<bool> {
    Ok(fact_snapshot::Entity::find()
        .filter(fact_snapshot::Column::DailyOn.eq(day.to_string()))
        .one(db)
        .await
        .context("cannot read the snapshots")?
        .is_some())
}

/// Every snapshot, the latest first.
pub async fn all(db: &impl ConnectionTrait) -> anyhow::Result<Vec<fact_snapshot::Model>> {
    fact_snapshot::Entity::find()
        .order_by_desc(fact_snapshot::Column::Id)
        .all(db)
        .await
        .context("cannot read the snapshots")
}

/// Put `snapshot`'s rows back into tables the caller has emptied, in its
/// transaction, and work out the counters from the facts; answers how many
/// facts came back.
pub async fn restore(txn: &impl ConnectionTrait, snapshot: &str) -> anyhow::Result<u64> {
    let facts = restore_kind::<fact::ActiveModel, fact::Model>(txn, snapshot, Kind::Fact).await?;
    restore_kind::<pathway_change::ActiveModel, pathway_change::Model>(
        txn,
        snapshot,
        Kind::PathwayChange,
    )
    .await?;
    restore_kind::<settings_change::ActiveModel, settings_change::Model>(
        txn,
        snapshot,
        Kind::SettingsChange,
    )
    .await?;
    restore_kind::<inbox::ActiveModel, inbox::Model>(txn, snapshot, Kind::Inbox).await?;
    restore_kind::<dead_letter::ActiveModel, dead_letter::Model>(txn, snapshot, Kind::DeadLetter)
        .await?;
    aggregates::recompute_all(txn).await?;
    Ok(facts)
}

/// Insert the rows of `kind` of `snapshot`, a page at a time.
async fn restore_kind<A, M>(
    txn: &impl ConnectionTrait,
    snapshot: &str,
    kind: Kind,
) -> anyhow::Result<u64>
where
    M: DeserializeOwned + IntoActiveModel<A>,
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut after = 0;
    let mut restored = 0;
    loop {
        let page = fact_snapshot_row::Entity::find()
            .filter(fact_snapshot_row::Column::SnapshotId.eq(snapshot))
            .filter(fact_snapshot_row::Column::Kind.eq(kind.as_str()))
            .filter(fact_snapshot_row::Column::Position.gt(after))
            .order_by_asc(fact_snapshot_row::Column::Position)
            .limit(PAGE)
            .all(txn)
            .await
            .context("cannot read a snapshot")?;
        let Some(last) = page.last() else { break };
        after = last.position;
        let mut models = Vec::with_capacity(page.len());
        for row in &page {
            let model: M = serde_json::from_str(&row.body).with_context(|| {
                format!(
                    "snapshot {snapshot}: a {} row does not read back (position {})",
                    kind.as_str(),
                    row.position
                )
            })?;
            models.push(model.into_active_model());
        }
        restored += models.len() as u64;
        <A::Entity as EntityTrait>::insert_many(models)
            .exec(txn)
            .await
            .with_context(|| format!("cannot restore a snapshot's {} rows", kind.as_str()))?;
    }
    Ok(restored)
}

/// Remove every snapshot but the `keep` latest; answers how many went.
pub async fn prune(db: &impl ConnectionTrait, keep: usize) -> anyhow::Result<usize> {
    let ids: Vec<String> = fact_snapshot::Entity::find()
        .select_only()
        .column(fact_snapshot::Column::Id)
        .order_by_desc(fact_snapshot::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .context("cannot read the snapshots")?;
    let old = ids.get(keep..).unwrap_or_default();
    for id in old {
        fact_snapshot_row::Entity::delete_many()
            .filter(fact_snapshot_row::Column::SnapshotId.eq(id.as_str()))
            .exec(db)
            .await
            .context("cannot remove an old snapshot's rows")?;
        fact_snapshot::Entity::delete_by_id(id.clone())
            .exec(db)
            .await
            .context("cannot remove an old snapshot")?;
    }
    Ok(old.len())
}
