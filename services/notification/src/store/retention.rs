//! Retention in the `deliveries` table: once a board's `delivery_days` have
//! passed since a message was last tried, its address and words (subject,
//! body, webhook document) are emptied; the row itself (when, which channel,
//! to whom by role, how it ended) stays, for the board's record of what was
//! sent.

use chrono::{DateTime, Utc};
use pathway_common::retention::BATCH;
use pathway_proto::BoardCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::delivery::{self, Column, Status};

/// Ended deliveries of `board` last tried before `cutoff` that still hold
/// an address or words.
fn due(board: BoardCode, cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Board.eq(board.code()))
        .add(Column::Status.is_in([Status::Sent, Status::Failed]))
        .add(Column::UpdatedAt.lt(cutoff))
        .add(
            Condition::any()
                .add(Column::Address.ne(""))
                .add(Column::Subject.ne(""))
                .add(Column::Body.ne(""))
                .add(Column::Document.is_not_null()),
        )
}

/// Empty one batch of the deliveries due; how many. A delivery still
/// `planned` or `sending` is never touched, however old: it has yet to go.
pub async fn scrub_batch<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ids: Vec<String> = delivery::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(due(board, cutoff))
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    // The same condition again: a row retried meanwhile is not emptied.
    let scrubbed = delivery::Entity::update_many()
        .col_expr(Column::Address, Expr::value(""))
        .col_expr(Column::Subject, Expr::value(""))
        .col_expr(Column::Body, Expr::value(""))
        .col_expr(Column::Document, Expr::value(Option::<String>::None))
        .filter(Column::Id.is_in(ids))
        .filter(due(board, cutoff))
        .exec(db)
        .await?;
    Ok(scrubbed.rows_affected)
}
