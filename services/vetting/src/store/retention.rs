//! Retention in vetting's tables, for finished referrals only: one whose
//! worklist row is `vetted`, `withdrawn` or `closed` (a referral still
//! awaiting vetting, in vetting or waiting for the referrer's answer is never
//! touched, however old). Its last change as vetting knows it is the
//! worklist row's `updated_at`, which every change bumps.
//!
//! - Past `retention.clinical_text_years` ([`purge_texts_batch`]), the
//!   clinicians' free text goes: its `clinical_texts` rows, the question
//!   kept beside each information request (emptied), and the words kept in
//!   each recorded outcome (advice, reason, rationale and red-flag override
//!   reason taken out; the outcome itself stays).
//! - Past `retention.referral_years` ([`purge_referrals_batch`]), the
//!   referral goes whole: its worklist row, information requests, outcomes
//!   and any text left.
//!
//! Each batch is one transaction over at most [`BATCH`] referrals still past
//! the cutoff when it runs, so two instances sweeping at once, or a crash
//! between batches, leave nothing half-done.

use chrono::{DateTime, Utc};
use pathway_common::crypto::FieldCipher;
use pathway_common::retention::BATCH;
use pathway_proto::BoardCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};

use super::encrypted::{self, BODY, OUTCOMES};
use super::worklist::StoredStatus;
use super::{clinical_text, information_request, outcome, worklist};

/// The statuses after which vetting does nothing more with a referral
/// unless an event brings it back.
const FINISHED: [StoredStatus; 3] = [
    StoredStatus::Vetted,
    StoredStatus::Withdrawn,
    StoredStatus::Closed,
];

/// The words of an outcome request that are clinicians' free text.
const OUTCOME_TEXTS: [&str; 4] = ["advice", "reason", "rationale", "red_flag_override_reason"];

/// Up to [`BATCH`] finished referrals of `board` last changed before
/// `cutoff`, and only those for which `more` holds.
async fn finished<C: sea_orm::ConnectionTrait>(
    db: &C,
    board: BoardCode,
    cutoff: DateTime<Utc>,
    more: Option<sea_orm::sea_query::SimpleExpr>,
) -> Result<Vec<String>, DbErr> {
    let mut query = worklist::Entity::find()
        .select_only()
        .column(worklist::Column::ReferralId)
        .filter(worklist::Column::Board.eq(board.code()))
        .filter(worklist::Column::Status.is_in(FINISHED))
        .filter(worklist::Column::UpdatedAt.lt(cutoff));
    if let Some(more) = more {
        query = query.filter(more);
    }
    query.limit(BATCH).into_tuple().all(db).await
}

/// Remove the clinicians' free text of one batch of `board`'s finished
/// referrals last changed before `cutoff`; how many texts went.
pub async fn purge_texts_batch(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    // Only referrals with words left: one done is not taken again.
    let ids = finished(
        &txn,
        board,
        cutoff,
        Some(Expr::cust(
            "(EXISTS (SELECT 1 FROM clinical_texts t WHERE t.referral_id = worklist.referral_id) \
             OR EXISTS (SELECT 1 FROM information_requests q \
             WHERE q.referral_id = worklist.referral_id AND q.question <> ''))",
        )),
    )
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let deleted = clinical_text::Entity::delete_many()
        .filter(clinical_text::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let emptied = information_request::Entity::update_many()
        .col_expr(information_request::Column::Question, Expr::value(""))
        .filter(information_request::Column::ReferralId.is_in(ids.clone()))
        .filter(information_request::Column::Question.ne(""))
        .exec(&txn)
        .await?;
    for row in outcome::Entity::find()
        .filter(outcome::Column::ReferralId.is_in(ids))
        .all(&txn)
        .await?
    {
        let body = encrypted::open(cipher, (OUTCOMES, BODY), &row.id, &row.body)?;
        let mut request: serde_json::Value =
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        if let Some(fields) = request.as_object_mut() {
            for text in OUTCOME_TEXTS {
                fields.remove(text);
            }
        }
        let body = encrypted::seal(
            cipher,
            &row.board,
            (OUTCOMES, BODY),
            &row.id,
            &request.to_string(),
        )?;
        let mut active: outcome::ActiveModel = row.into();
        active.body = Set(body);
        active.red_flag_override_reason = Set(None);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    // Never fewer than the referrals taken: a full batch asks for another.
    Ok(deleted.rows_affected + emptied.rows_affected)
}

/// Remove one batch of `board`'s finished referrals last changed before
/// `cutoff`, with everything vetting holds of them; how many referrals went.
pub async fn purge_referrals_batch(
    db: &DatabaseConnection,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let ids = finished(&txn, board, cutoff, None).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    clinical_text::Entity::delete_many()
        .filter(clinical_text::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    information_request::Entity::delete_many()
        .filter(information_request::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    outcome::Entity::delete_many()
        .filter(outcome::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let deleted = worklist::Entity::delete_many()
        .filter(worklist::Column::ReferralId.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}
