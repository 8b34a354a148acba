//! Retention in decision's tables, for finished referrals only. A referral
//! is finished here when its latest decision stands with nothing pending:
//! no opt-in window of it still open, and the latest decision's window (if
//! any) not ended by the patient opting in (the referral is then back with
//! vetting for a new decision). Its last change as decision knows it is the
//! latest of its decisions' recording and its windows' ending.
//!
//! - Past `retention.clinical_text_years` ([`purge_texts_batch`]), the
//!   clinicians' words kept in decisions recorded before the text left the
//!   stream (`reason`, `advice`, `rationale`, red-flag override reason) are
//!   emptied; the decisions stay.
//! - Past `retention.referral_years` ([`purge_referrals_batch`]), the
//!   referral's decisions and opt-in windows go.
//!
//! Each batch is one transaction over at most [`BATCH`] referrals still past
//! the cutoff when it runs: two instances sweeping at once, or a crash
//! between batches, leave nothing half-done.

use chrono::{DateTime, Utc};
use pathway_common::retention::BATCH;
use pathway_proto::BoardCode;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::{decision, opt_in_window};

/// Up to [`BATCH`] finished referrals of `board` last changed before
/// `cutoff` (each once), and only those for which `more` holds of their
/// latest decision.
async fn finished<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    cutoff: DateTime<Utc>,
    more: Option<SimpleExpr>,
) -> Result<Vec<String>, DbErr> {
    let mut query = decision::Entity::find()
        .select_only()
        .column(decision::Column::ReferralId)
        .filter(decision::Column::Board.eq(board.code()))
        .filter(decision::Column::RecordedAt.lt(cutoff))
        // The referral's latest decision: one row per referral.
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM decisions n WHERE n.referral_id = decisions.referral_id \
             AND n.sequence > decisions.sequence)",
        ))
        // Nothing pending, and nothing changed since the cutoff.
        .filter(Expr::exists(pending_or_changed(cutoff)).not());
    if let Some(more) = more {
        query = query.filter(more);
    }
    query.limit(BATCH).into_tuple().all(db).await
}

/// The windows of the referral of the outer `decisions` row that keep it:
/// one still open, one ended at or after `cutoff`, or the window of that
/// (latest) decision ended by the patient opting in.
fn pending_or_changed(cutoff: DateTime<Utc>) -> SelectStatement {
    use opt_in_window::Column as W;
    let w = Alias::new("w");
    Query::select()
        .expr(Expr::val(1))
        .from_as(opt_in_window::Entity, w.clone())
        .and_where(
            Expr::col((w.clone(), W::ReferralId))
                .equals((decision::Entity, decision::Column::ReferralId)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((w.clone(), W::Resolution)).is_null())
                .add(Expr::col((w.clone(), W::ResolvedAt)).is_null())
                .add(Expr::col((w.clone(), W::ResolvedAt)).gte(cutoff))
                .add(
                    Condition::all()
                        .add(
                            Expr::col((w.clone(), W::DecisionId))
                                .equals((decision::Entity, decision::Column::Id)),
                        )
                        .add(Expr::col((w, W::Resolution)).eq("opted_in")),
                ),
        )
        .to_owned()
}

/// Empty the clinicians' words kept in the decisions of one batch of
/// `board`'s finished referrals last changed before `cutoff`; how many
/// decisions were emptied.
pub async fn purge_texts_batch(
    db: &DatabaseConnection,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    const HAS_WORDS: &str = "(d.reason IS NOT NULL OR d.advice IS NOT NULL OR d.rationale <> '' \
         OR d.red_flag_override_reason IS NOT NULL)";
    let txn = db.begin().await?;
    let ids = finished(
        &txn,
        board,
        cutoff,
        Some(Expr::cust(format!(
            "EXISTS (SELECT 1 FROM decisions d WHERE d.referral_id = decisions.referral_id \
             AND {HAS_WORDS})"
        ))),
    )
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let emptied = decision::Entity::update_many()
        .col_expr(
            decision::Column::Reason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            decision::Column::Advice,
            Expr::value(Option::<String>::None),
        )
        .col_expr(decision::Column::Rationale, Expr::value(""))
        .col_expr(
            decision::Column::RedFlagOverrideReason,
            Expr::value(Option::<String>::None),
        )
        .filter(decision::Column::ReferralId.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    // Every referral taken has at least one decision: never fewer.
    Ok(emptied.rows_affected)
}

/// Remove one batch of `board`'s finished referrals last changed before
/// `cutoff`: their decisions and opt-in windows; how many referrals went.
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
    opt_in_window::Entity::delete_many()
        .filter(opt_in_window::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    decision::Entity::delete_many()
        .filter(decision::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}
