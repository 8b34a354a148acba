//! Retention in intake's tables: a referral last changed before its board's
//! `retention.referral_years` goes whole (the referral with the patient and
//! the letter, its history, questions and answers, opt-in links, first
//! appointments, FHIR notifications owed and the duplicate rule's lock), a
//! batch per transaction. Analytics keeps its de-identified facts.
//!
//! A child's referral (a patient under 18 when it was received) is kept
//! longer: not before the year in its `keep_until_year`
//! (`crate::domain::retention`), worked out when it is submitted, or at
//! start from its document for referrals stored before the column
//! ([`fill_keep_until`]; a crash part-way leaves the rest for the next
//! start, and until then a referral without the year is swept by its
//! period alone).

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use pathway_common::crypto::FieldCipher;
use pathway_common::retention::BATCH;
use pathway_proto::{BoardCode, days};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::domain::referral::NewReferral;
use crate::domain::retention::KeepUntil;

use super::appointments::appointment;
use super::opt_in::invitation;
use super::subscriptions::notification;
use super::{history, information_request, open_referral, referral};

/// Remove one batch of `board`'s referrals last changed before `cutoff`
/// (a child's only from the year kept with it, on the Scottish day
/// `today`), with everything intake holds of them; how many referrals went.
pub async fn purge_batch(
    db: &DatabaseConnection,
    board: BoardCode,
    cutoff: DateTime<Utc>,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let ids: Vec<String> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::Board.eq(board.code()))
        .filter(referral::Column::UpdatedAt.lt(cutoff))
        .filter(
            Condition::any()
                .add(referral::Column::KeepUntilYear.is_null())
                .add(referral::Column::KeepUntilYear.lte(today.year())),
        )
        .limit(BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    history::Entity::delete_many()
        .filter(history::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    information_request::Entity::delete_many()
        .filter(information_request::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    invitation::Entity::delete_many()
        .filter(invitation::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    appointment::Entity::delete_many()
        .filter(appointment::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    notification::Entity::delete_many()
        .filter(notification::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    open_referral::Entity::delete_many()
        .filter(open_referral::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let deleted = referral::Entity::delete_many()
        .filter(referral::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}

/// Work out `keep_until_year` of every referral stored without it, from its
/// document, a batch at a time; how many were filled. A document that does
/// not read is left without (and logged): its referral keeps its period.
pub async fn fill_keep_until(db: &DatabaseConnection, cipher: &FieldCipher) -> anyhow::Result<u64> {
    let mut after = String::new();
    let mut filled = 0;
    loop {
        let rows = referral::Entity::find()
            .filter(referral::Column::KeepUntilYear.is_null())
            .filter(referral::Column::ErasedAt.is_null())
            .filter(referral::Column::Id.gt(after.as_str()))
            .order_by_asc(referral::Column::Id)
            .limit(BATCH)
            .all(db)
            .await
            .context("cannot read the referrals to work out how long each is kept")?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id.clone();
        for row in &rows {
            let document = super::encrypted::open_document(cipher, row)
                .ok()
                .and_then(|plain| serde_json::from_str::<NewReferral>(&plain).ok());
            let Some(document) = document else {
                tracing::warn!(referral_id = %row.id, "the referral's document does not read: kept for its period alone");
                continue;
            };
            let keep = KeepUntil::of(
                *document.patient.date_of_birth.expose(),
                days::day_of(row.received_at),
            );
            // Only if still unknown: another instance may have done it.
            let result = referral::Entity::update_many()
                .col_expr(referral::Column::KeepUntilYear, Expr::value(keep.stored()))
                .filter(referral::Column::Id.eq(row.id.as_str()))
                .filter(referral::Column::KeepUntilYear.is_null())
                .exec(db)
                .await
                .context("cannot store how long a referral is kept")?;
            filled += result.rows_affected;
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    if filled > 0 {
        tracing::info!(count = filled, "referrals' keep-until years worked out");
    }
    Ok(filled)
}
