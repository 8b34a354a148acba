//! The facts table's row functions: a [`Fact`] to and from its row, one
//! referral's fact loaded and saved in the caller's transaction, a baseline
//! file's facts replaced, and the facts built from the stream cleared for a
//! rebuild.

use std::collections::BTreeSet;

use anyhow::Context;
use pathway_proto::BoardCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use super::{aggregates, boards, fact, re_referrals};
use crate::domain::aggregates::Deltas;
use crate::domain::baseline;
use crate::domain::fact::{Attributes, Fact, Pause, Route};
use crate::domain::first_appointment::FirstAppointment;
use crate::domain::re_referrals::{BoardSet, ReReferred};

/// What [`to_row`] writes for a referral with no questions.
pub const NO_PAUSES: &str = "[]";

/// Rows per statement when facts are written in bulk.
const CHUNK: usize = 500;

/// The fact a stored row holds; an error means a row this service wrote
/// does not read back (our fault, not the caller's).
pub fn from_row(row: &fact::Model) -> anyhow::Result<Fact> {
    let pauses: Vec<Pause> = serde_json::from_str(&row.pauses_json)
        .map_err(|e| anyhow::anyhow!("a stored fact does not read: {e}"))?;
    let board = BoardCode::parse(&row.board)
        .map_err(|e| anyhow::anyhow!("a stored fact does not read: {e}"))?;
    Ok(Fact {
        referral_id: row.referral_id.clone(),
        board,
        route: row.route.as_deref().and_then(Route::parse),
        received_at: row.received_at,
        attributes: Attributes {
            age_band: row.age_band.clone(),
            sex: row.sex.clone(),
            urban_rural_class: u8::try_from(row.urban_rural_class).unwrap_or(0),
            simd_quintile: u8::try_from(row.simd_quintile).unwrap_or(0),
            patient_pseudonym: row.patient_pseudonym.clone(),
        },
        practice_code: row.practice_code.clone(),
        red_flags: u32::try_from(row.red_flags).unwrap_or(0),
        re_referral: row.re_referral,
        claimed_at: row.claimed_at,
        pauses,
        vetted_at: row.vetted_at,
        decided_at: row.decided_at,
        outcome: row.outcome.clone(),
        priority: row.priority.clone(),
        notified_at: row.notified_at,
        notification_failures: u32::try_from(row.notification_failures).unwrap_or(0),
        withdrawn_at: row.withdrawn_at,
        closed_at: row.closed_at,
        closed_reason: row.closed_reason.clone(),
        first_appointment: FirstAppointment {
            appointment_id: row.first_appointment_id.clone(),
            booked_for: row.first_appointment_booked_for,
            attended_at: row.first_appointment_attended_at,
            clinic_type: row.first_appointment_clinic.clone(),
            did_not_attend: u32::try_from(row.first_appointment_dna).unwrap_or(0),
        },
        demo: row.demo,
        re_referred: ReReferred([
            board_set(row.re_referred_6m)?,
            board_set(row.re_referred_12m)?,
        ]),
    })
}

/// The set of boards stored as `bits`.
pub(crate) fn board_set(bits: i32) -> anyhow::Result<BoardSet> {
    u16::try_from(bits)
        .ok()
        .and_then(BoardSet::from_bits)
        .ok_or_else(|| {
            anyhow::anyhow!("a stored fact does not read: {bits} is not a set of boards")
        })
}

/// The row that stores `fact`.
pub fn to_row(fact: &Fact) -> anyhow::Result<fact::Model> {
    Ok(fact::Model {
        referral_id: fact.referral_id.clone(),
        board: fact.board.code().to_owned(),
        route: fact.route.map(|r| r.as_str().to_owned()),
        received_at: fact.received_at,
        age_band: fact.attributes.age_band.clone(),
        sex: fact.attributes.sex.clone(),
        urban_rural_class: i16::from(fact.attributes.urban_rural_class),
        simd_quintile: i16::from(fact.attributes.simd_quintile),
        patient_pseudonym: fact.attributes.patient_pseudonym.clone(),
        red_flags: i32::try_from(fact.red_flags).unwrap_or(i32::MAX),
        re_referral: fact.re_referral,
        claimed_at: fact.claimed_at,
        pauses_json: serde_json::to_string(&fact.pauses)
            .context("a fact's pauses do not serialise")?,
        vetted_at: fact.vetted_at,
        decided_at: fact.decided_at,
        outcome: fact.outcome.clone(),
        priority: fact.priority.clone(),
        notified_at: fact.notified_at,
        notification_failures: i32::try_from(fact.notification_failures).unwrap_or(i32::MAX),
        withdrawn_at: fact.withdrawn_at,
        closed_at: fact.closed_at,
        closed_reason: fact.closed_reason.clone(),
        first_appointment_id: fact.first_appointment.appointment_id.clone(),
        first_appointment_booked_for: fact.first_appointment.booked_for,
        first_appointment_attended_at: fact.first_appointment.attended_at,
        first_appointment_clinic: fact.first_appointment.clinic_type.clone(),
        first_appointment_dna: i32::try_from(fact.first_appointment.did_not_attend)
            .unwrap_or(i32::MAX),
        practice_code: fact.practice_code.clone(),
        demo: fact.demo,
        re_referred_6m: i32::from(fact.re_referred.0[0].bits()),
        re_referred_12m: i32::from(fact.re_referred.0[1].bits()),
    })
}

/// The fact of `referral_id`, if there is one, locked until the end of the
/// caller's transaction (`FOR UPDATE` on PostgreSQL; SQLite writes one at a
/// time anyway): two instances applying two events to one referral apply
/// them one after the other, never both to the same old row.
pub async fn load(db: &impl ConnectionTrait, referral_id: &str) -> anyhow::Result<Option<Fact>> {
    fact::Entity::find_by_id(referral_id.to_owned())
        .lock_exclusive()
        .one(db)
        .await
        .context("cannot load a fact")?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Write `fact`: an update when it was loaded (`existed`), else an insert.
pub async fn save(db: &impl ConnectionTrait, fact: &Fact, existed: bool) -> anyhow::Result<()> {
    let row = to_row(fact)?;
    if existed {
        fact::Entity::update(row.into_active_model().reset_all())
            .exec(db)
            .await
            .context("cannot update a fact")?;
    } else {
        fact::Entity::insert(row.into_active_model())
            .exec(db)
            .await
            .context("cannot insert a fact")?;
    }
    Ok(())
}

/// Write `facts`, replacing any under the same referral ids, and work out
/// their boards' counters again; answers how many were replaced.
pub async fn replace(db: &impl ConnectionTrait, facts: &[Fact]) -> anyhow::Result<u64> {
    let mut replaced = 0;
    let mut boards: BTreeSet<BoardCode> = facts.iter().map(|f| f.board).collect();
    for chunk in facts.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|f| f.referral_id.clone()).collect();
        let old: Vec<String> = fact::Entity::find()
            .select_only()
            .column(fact::Column::Board)
            .distinct()
            .filter(fact::Column::ReferralId.is_in(ids.clone()))
            .into_tuple()
            .all(db)
            .await
            .context("cannot read the facts replaced")?;
        boards.extend(old.iter().filter_map(|b| BoardCode::parse(b).ok()));
        replaced += fact::Entity::delete_many()
            .filter(fact::Column::ReferralId.is_in(ids))
            .exec(db)
            .await
            .context("cannot delete the facts replaced")?
            .rows_affected;
        let rows = chunk
            .iter()
            .map(|f| to_row(f).map(IntoActiveModel::into_active_model))
            .collect::<anyhow::Result<Vec<_>>>()?;
        fact::Entity::insert_many(rows)
            .exec(db)
            .await
            .context("cannot insert the facts")?;
    }
    // Their patients' referrals closed with advice, on any board, may
    // count them as re-referrals, or no longer; then their own boards are
    // counted afresh.
    let patients: BTreeSet<String> = facts
        .iter()
        .map(|f| f.attributes.patient_pseudonym.clone())
        .collect();
    let all: Vec<BoardCode> = BoardCode::all().collect();
    let mut deltas = Deltas::new();
    re_referrals::refresh(
        db,
        &patients,
        &boards::contexts(db, &all).await?,
        &mut deltas,
    )
    .await?;
    aggregates::apply(db, &deltas).await?;
    let boards: Vec<BoardCode> = boards.into_iter().collect();
    aggregates::recompute(db, &boards).await?;
    Ok(replaced)
}

/// Delete every fact built from the stream, and the counters with them;
/// imported baseline facts come from no stream and stay.
pub async fn clear_from_stream(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    fact::Entity::delete_many()
        .filter(fact::Column::ReferralId.not_like(format!("{}%", baseline::PREFIX)))
        .exec(db)
        .await
        .context("cannot delete the facts")?;
    aggregates::recompute_all(db).await?;
    Ok(())
}
