//! The re-referrals each referral closed with advice keeps
//! ([`crate::domain::re_referrals`]), worked out again from its patient's
//! facts whenever one of them changes: for the patients of a batch or of
//! one change ([`refresh`]), or for every patient at once ([`refresh_all`]:
//! when the facts were replaced in bulk, restored or first given the sets).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::db::insert_rows_as_json;
use pathway_proto::BoardCode;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::{fact, facts};
use crate::domain::aggregates::{Deltas, difference};
use crate::domain::fact::Fact;
use crate::domain::metrics::BoardContext;
use crate::domain::re_referrals::{ReReferred, followed};

/// Patients per statement.
const CHUNK: usize = 500;
/// Facts written per statement (about 30 columns each: inside both
/// databases' limits on parameters).
const ROWS_AT_ONCE: usize = 500;
/// Facts read at a time when every patient's are worked out again.
const PAGE: u64 = 20_000;

/// Work out again the re-referrals of every fact of `patients`
/// (pseudonyms), as the database has their facts now (locked until the end
/// of the transaction), write those that changed, and add what that does to
/// the counters to `deltas`, under `contexts` (a board missing from it has
/// the default context).
pub async fn refresh(
    db: &impl ConnectionTrait,
    patients: &BTreeSet<String>,
    contexts: &BTreeMap<BoardCode, BoardContext>,
    deltas: &mut Deltas,
) -> anyhow::Result<()> {
    let patients: Vec<&str> = patients
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    let fallback = BoardContext::default();
    for chunk in patients.chunks(CHUNK) {
        let rows = fact::Entity::find()
            .filter(fact::Column::PatientPseudonym.is_in(chunk.iter().copied()))
            .lock_exclusive()
            .all(db)
            .await
            .context("cannot load the patients' facts")?;
        let mut by_patient: BTreeMap<String, Vec<Fact>> = BTreeMap::new();
        for row in &rows {
            by_patient
                .entry(row.patient_pseudonym.clone())
                .or_default()
                .push(facts::from_row(row)?);
        }
        let mut rows = Vec::new();
        for facts in by_patient.values() {
            let receipts = receipts(facts);
            for fact in facts {
                let sets = followed(fact, &receipts);
                if sets == fact.re_referred {
                    continue;
                }
                let mut changed = fact.clone();
                changed.re_referred = sets;
                let context = contexts.get(&fact.board).unwrap_or(&fallback);
                for (key, n) in difference(Some(fact), &changed, context) {
                    *deltas.entry(key).or_default() += n;
                }
                rows.push(facts::to_row(&changed)?);
            }
        }
        write_sets(db, rows).await?;
    }
    Ok(())
}

/// Write the re-referrals of `rows` (there and locked): only the sets, on
/// PostgreSQL in one statement, on SQLite a statement per [`ROWS_AT_ONCE`].
async fn write_sets(db: &impl ConnectionTrait, rows: Vec<fact::Model>) -> anyhow::Result<()> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        return insert_rows_as_json::<fact::Entity>(
            db,
            &rows,
            "ON CONFLICT (referral_id) DO UPDATE SET \
             re_referred_6m = excluded.re_referred_6m, re_referred_12m = excluded.re_referred_12m",
        )
        .await
        .context("cannot keep the referrals' re-referrals");
    }
    let rows: Vec<fact::ActiveModel> = rows
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect();
    let sets = OnConflict::column(fact::Column::ReferralId)
        .update_columns([fact::Column::ReReferred6m, fact::Column::ReReferred12m])
        .to_owned();
    for chunk in rows.chunks(ROWS_AT_ONCE) {
        fact::Entity::insert_many(chunk.to_vec())
            .on_conflict(sets.clone())
            .exec(db)
            .await
            .context("cannot keep the referrals' re-referrals")?;
    }
    Ok(())
}

/// Work out again the re-referrals of every fact from all the facts, a
/// patient at a time, and write those that changed; the counters are the
/// caller's to work out again. Answers how many changed.
pub async fn refresh_all(db: &impl ConnectionTrait) -> anyhow::Result<u64> {
    use fact::Column as F;
    type Row = (
        String,
        String,
        String,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<String>,
        i32,
        i32,
    );
    let mut changes = Vec::new();
    let mut patient: Vec<Fact> = Vec::new();
    // By patient, a page at a time: a patient's facts may span two pages.
    let mut after: Option<(String, String)> = None;
    loop {
        let mut page = fact::Entity::find()
            .select_only()
            .columns([
                F::PatientPseudonym,
                F::ReferralId,
                F::Board,
                F::ReceivedAt,
                F::VettedAt,
                F::Outcome,
                F::ReReferred6m,
                F::ReReferred12m,
            ])
            .filter(F::PatientPseudonym.ne(""))
            .order_by_asc(F::PatientPseudonym)
            .order_by_asc(F::ReferralId)
            .limit(PAGE);
        if let Some((pseudonym, referral)) = &after {
            page = page.filter(
                Condition::any()
                    .add(F::PatientPseudonym.gt(pseudonym.as_str()))
                    .add(
                        Condition::all()
                            .add(F::PatientPseudonym.eq(pseudonym.as_str()))
                            .add(F::ReferralId.gt(referral.as_str())),
                    ),
            );
        }
        let rows: Vec<Row> = page
            .into_tuple()
            .all(db)
            .await
            .context("cannot read the patients' facts")?;
        let Some((pseudonym, referral, ..)) = rows.last() else {
            break;
        };
        after = Some((pseudonym.clone(), referral.clone()));
        for (pseudonym, referral, board, received, vetted, outcome, six, twelve) in rows {
            if patient
                .first()
                .is_some_and(|f| f.attributes.patient_pseudonym != pseudonym)
            {
                changes.extend(changed(&std::mem::take(&mut patient)));
            }
            let board = BoardCode::parse(&board)
                .map_err(|e| anyhow::anyhow!("a stored fact does not read: {e}"))?;
            let mut fact = Fact::new(&referral, board);
            fact.received_at = received;
            fact.vetted_at = vetted;
            fact.outcome = outcome;
            fact.attributes.patient_pseudonym = pseudonym;
            fact.re_referred = ReReferred([facts::board_set(six)?, facts::board_set(twelve)?]);
            patient.push(fact);
        }
    }
    changes.extend(changed(&patient));
    for (referral, sets) in &changes {
        write(db, referral, *sets).await?;
    }
    Ok(u64::try_from(changes.len()).unwrap_or(u64::MAX))
}

/// The referrals of one patient's `facts` whose re-referrals are not as
/// kept, with what they are.
fn changed(facts: &[Fact]) -> Vec<(String, ReReferred)> {
    let receipts = receipts(facts);
    facts
        .iter()
        .filter_map(|fact| {
            let sets = followed(fact, &receipts);
            (sets != fact.re_referred).then(|| (fact.referral_id.clone(), sets))
        })
        .collect()
}

/// Where and when each of one patient's referrals was received.
fn receipts(facts: &[Fact]) -> Vec<(BoardCode, DateTime<Utc>)> {
    facts
        .iter()
        .filter_map(|f| Some((f.board, f.received_at?)))
        .collect()
}

async fn write(db: &impl ConnectionTrait, referral: &str, sets: ReReferred) -> anyhow::Result<()> {
    let ReReferred([six, twelve]) = sets;
    fact::Entity::update_many()
        .col_expr(
            fact::Column::ReReferred6m,
            Expr::value(i32::from(six.bits())),
        )
        .col_expr(
            fact::Column::ReReferred12m,
            Expr::value(i32::from(twelve.bits())),
        )
        .filter(fact::Column::ReferralId.eq(referral))
        .exec(db)
        .await
        .context("cannot keep a referral's re-referrals")?;
    Ok(())
}
