//! Retention in intake's tables: a referral last changed before its board's
//! `retention.referral_years` goes whole (the referral with the patient and
//! the letter, its history, questions and answers, opt-in links, first
//! appointments, FHIR notifications owed and the duplicate rule's lock), a
//! batch per transaction. Analytics keeps its de-identified facts.

use chrono::{DateTime, Utc};
use pathway_common::retention::BATCH;
use pathway_proto::BoardCode;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::appointments::appointment;
use super::opt_in::invitation;
use super::subscriptions::notification;
use super::{history, information_request, open_referral, referral};

/// Remove one batch of `board`'s referrals last changed before `cutoff`,
/// with everything intake holds of them; how many referrals went.
pub async fn purge_batch(
    db: &DatabaseConnection,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let ids: Vec<String> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::Board.eq(board.code()))
        .filter(referral::Column::UpdatedAt.lt(cutoff))
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
