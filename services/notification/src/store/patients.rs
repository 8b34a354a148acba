//! A patient's erasure, as notification carries it out: every message about
//! the referral loses its address and words (subject, body, webhook
//! document), and one not yet sent is never sent (`failed`, saying why);
//! the row that says a message was planned, when, on which channel and to
//! whom by role stays. Each erasure is kept under its id
//! (`pathway_common::erasure`) with how many messages it emptied, for the
//! board admin's report.
//!
//! It runs in the consumer's transaction with its inbox row: a crash before
//! the commit leaves it to the redelivery, which a commit makes a no-op.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use pathway_common::erasure;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::delivery::{self, Column, Status};

/// Why a message not yet sent never will be.
pub const NOT_SENT: &str = "not sent: the patient's data was erased at their request";

/// Empty every message about `referral_id` of `board` under `erasure_id`,
/// and keep what went.
pub async fn erase<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
    referral_id: &str,
    board: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let cancelled = delivery::Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Failed))
        .col_expr(Column::LastError, Expr::value(Some(NOT_SENT.to_owned())))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::ReferralId.eq(referral_id))
        .filter(Column::Status.is_in([Status::Planned, Status::Sending]))
        .exec(db)
        .await?
        .rows_affected;
    let messages = delivery::Entity::update_many()
        .col_expr(Column::Address, Expr::value(""))
        .col_expr(Column::Subject, Expr::value(""))
        .col_expr(Column::Body, Expr::value(""))
        .col_expr(Column::Document, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?
        .rows_affected;
    let removed = BTreeMap::from([
        ("messages".to_owned(), messages),
        ("messages_not_sent".to_owned(), cancelled),
    ]);
    erasure::record(db, erasure_id, referral_id, board, &removed, now).await
}
