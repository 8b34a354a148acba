//! What the consumer keeps for one inbox batch (one transaction): the facts
//! of the batch's referrals, read in one query when the batch begins and
//! written once when it ends, the counters' changes summed over the batch
//! and written once when it ends, and the boards' contexts checked once.
//!
//! A message handled inside the batch keeps its change here only once it
//! is handled, so a message rolled back to its savepoint (rejected, or
//! waiting out a fault) leaves nothing behind. A board's history changing
//! works the board's counters out again from its facts: the facts changed
//! so far are written first, and the board's counter changes kept so far
//! are dropped, since the new counters count them. If the batch's
//! transaction fails, nothing of it was written, and the next batch starts
//! afresh ([`Batch::begin`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use anyhow::Context;
use pathway_common::db::insert_rows_as_json;
use pathway_proto::BoardCode;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, QueryFilter, QuerySelect,
};

use super::{aggregates, boards, fact, facts, re_referrals};
use crate::domain::aggregates::Deltas;
use crate::domain::fact::Fact;
use crate::domain::metrics::BoardContext;
use crate::domain::re_referrals::{Bearing, bearing};

/// Facts read, or written, per statement (about 30 columns each: inside
/// both databases' limits on parameters).
const CHUNK: usize = 500;

/// One referral's fact as the batch has it.
#[derive(Debug, Clone)]
struct Kept {
    /// Its fact now, `None` while it has none.
    fact: Option<Fact>,
    /// Its row exists in the database (read, or written by this batch).
    stored: bool,
    /// Changed since it was read or last written.
    changed: bool,
    /// What its patient's re-referrals depended on of it when it was read.
    read: Option<Bearing>,
}

#[derive(Debug, Default)]
struct State {
    facts: BTreeMap<String, Kept>,
    deltas: Deltas,
    /// The patients whose referrals changed in a way that bears on their
    /// re-referrals.
    patients: BTreeSet<String>,
    contexts: HashMap<BoardCode, BoardContext>,
}

/// One batch's facts, counter changes and boards' contexts
/// (see the module's documentation).
#[derive(Debug, Default)]
pub struct Batch(Mutex<State>);

impl Batch {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while it was held left it half-changed; the batch fails
        // anyway and the next one starts afresh.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start a batch whose events concern `referrals`: forget the last
    /// batch's, and read these referrals' facts, locked until the end of
    /// the transaction (as [`facts::load`] does).
    pub async fn begin(&self, db: &impl ConnectionTrait, referrals: &[&str]) -> anyhow::Result<()> {
        *self.state() = State::default();
        let mut ids: Vec<&str> = referrals.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut read = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows = fact::Entity::find()
                .filter(fact::Column::ReferralId.is_in(chunk.iter().copied()))
                .lock_exclusive()
                .all(db)
                .await
                .context("cannot load the batch's facts")?;
            for row in &rows {
                read.insert(row.referral_id.clone(), facts::from_row(row)?);
            }
        }
        let mut state = self.state();
        for id in ids {
            let fact = read.remove(id);
            let stored = fact.is_some();
            state.facts.insert(
                id.to_owned(),
                Kept {
                    read: fact.as_ref().map(bearing),
                    fact,
                    stored,
                    changed: false,
                },
            );
        }
        Ok(())
    }

    /// The fact of `referral` as this batch has it so far.
    pub async fn fact(
        &self,
        db: &impl ConnectionTrait,
        referral: &str,
    ) -> anyhow::Result<Option<Fact>> {
        if let Some(kept) = self.state().facts.get(referral) {
            return Ok(kept.fact.clone());
        }
        // Not among the referrals the batch began with.
        let fact = facts::load(db, referral).await?;
        let stored = fact.is_some();
        self.state().facts.insert(
            referral.to_owned(),
            Kept {
                fact: fact.clone(),
                stored,
                changed: false,
                read: fact.as_ref().map(bearing),
            },
        );
        Ok(fact)
    }

    /// `board`'s context, checked against its history once a batch (the
    /// history changes only by the board events of the batch, which
    /// [`Batch::forget_context`]).
    pub async fn context(
        &self,
        db: &impl ConnectionTrait,
        board: BoardCode,
        cache: &boards::ContextCache,
    ) -> anyhow::Result<BoardContext> {
        if let Some(context) = self.state().contexts.get(&board) {
            return Ok(context.clone());
        }
        let context = cache.get(db, board).await?;
        self.state().contexts.insert(board, context.clone());
        Ok(context)
    }

    /// `board`'s history is about to change.
    pub fn forget_context(&self, board: BoardCode) {
        self.state().contexts.remove(&board);
    }

    /// Keep a handled event's change: its referral's fact is now `fact`,
    /// and the counters change by `deltas`.
    pub fn keep(&self, fact: Fact, deltas: Deltas) {
        let mut state = self.state();
        let (stored, read) = state
            .facts
            .get(&fact.referral_id)
            .map_or((false, None), |kept| (kept.stored, kept.read.clone()));
        let now = bearing(&fact);
        if read.as_ref() != Some(&now) {
            let patients = read.iter().chain([&now]).map(|b| b.0.clone());
            state.patients.extend(patients);
        }
        state.facts.insert(
            fact.referral_id.clone(),
            Kept {
                fact: Some(fact),
                stored,
                changed: true,
                read,
            },
        );
        for (key, n) in deltas {
            *state.deltas.entry(key).or_default() += n;
        }
    }

    /// Write the facts changed so far, before a board's counters are worked
    /// out again from its facts; what is kept is left as it was until
    /// [`Batch::recounted`] (the event may yet be rolled back).
    pub async fn write_facts(&self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        let changed: Vec<Kept> = self
            .state()
            .facts
            .values()
            .filter(|kept| kept.changed)
            .cloned()
            .collect();
        write(db, &changed).await
    }

    /// `board`'s counters were worked out again from the facts, which
    /// [`Batch::write_facts`] wrote: the changes kept for its counters are
    /// counted now.
    pub fn recounted(&self, board: BoardCode) {
        let mut state = self.state();
        for kept in state.facts.values_mut().filter(|kept| kept.changed) {
            kept.stored = true;
            kept.changed = false;
        }
        state.deltas.retain(|key, _| key.board != board);
    }

    /// Write what the batch changed: its facts, the re-referrals of the
    /// patients whose referrals changed in a way that bears on them
    /// (boards' contexts from `cache`), then the counters' changes; the
    /// batch is then empty.
    pub async fn end(
        &self,
        db: &impl ConnectionTrait,
        cache: &boards::ContextCache,
    ) -> anyhow::Result<()> {
        let State {
            facts,
            mut deltas,
            mut patients,
            ..
        } = std::mem::take(&mut *self.state());
        let changed: Vec<Kept> = facts.into_values().filter(|kept| kept.changed).collect();
        write(db, &changed).await?;
        patients.remove("");
        if !patients.is_empty() {
            let all: Vec<BoardCode> = BoardCode::all().collect();
            let contexts = cache.get_many(db, &all).await?;
            re_referrals::refresh(db, &patients, &contexts, &mut deltas).await?;
        }
        aggregates::apply(db, &deltas).await
    }
}

/// Insert the facts not stored yet (a referral another instance inserted
/// meanwhile fails the batch, which then reads it), and overwrite those
/// stored (locked by this transaction since they were read): on PostgreSQL
/// a statement each ([`insert_rows_as_json`]), on SQLite a statement per
/// [`CHUNK`].
async fn write(db: &impl ConnectionTrait, kept: &[Kept]) -> anyhow::Result<()> {
    let mut new = Vec::new();
    let mut stored = Vec::new();
    for kept in kept {
        let Some(fact) = &kept.fact else { continue };
        let row = facts::to_row(fact)?;
        if kept.stored {
            stored.push(row);
        } else {
            new.push(row);
        }
    }
    let columns = fact::Column::iter().filter(|c| !matches!(c, fact::Column::ReferralId));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        insert_rows_as_json::<fact::Entity>(db, &new, "")
            .await
            .context("cannot insert the batch's facts")?;
        let updates: Vec<String> = columns
            .map(|c| format!("{0} = excluded.{0}", c.as_str()))
            .collect();
        let overwrite = format!(
            "ON CONFLICT (referral_id) DO UPDATE SET {}",
            updates.join(", ")
        );
        return insert_rows_as_json::<fact::Entity>(db, &stored, &overwrite)
            .await
            .context("cannot update the batch's facts");
    }
    let new: Vec<fact::ActiveModel> = new
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect();
    let stored: Vec<fact::ActiveModel> = stored
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect();
    for chunk in new.chunks(CHUNK) {
        fact::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .context("cannot insert the batch's facts")?;
    }
    let overwrite = OnConflict::column(fact::Column::ReferralId)
        .update_columns(columns)
        .to_owned();
    for chunk in stored.chunks(CHUNK) {
        fact::Entity::insert_many(chunk.to_vec())
            .on_conflict(overwrite.clone())
            .exec(db)
            .await
            .context("cannot update the batch's facts")?;
    }
    Ok(())
}
