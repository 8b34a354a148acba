//! Keeping endings and closing them once: the close is a conditional update
//! (`closed_at` still empty), so of two transactions that both find every
//! delivery ended, exactly one closes the ending.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::delivery::{self, Status};
use super::ending;

/// Keep `row`, unless an ending of the same event is kept already.
pub async fn insert_once<C: ConnectionTrait>(db: &C, row: ending::Model) -> Result<(), DbErr> {
    if ending::Entity::find_by_id(row.cause_event_id.clone())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    ending::Entity::insert(ending::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

/// The open endings whose deliveries include those of `cause_event_id`,
/// locked (PostgreSQL) until the transaction ends: two transactions that
/// each end one of an ending's deliveries take turns here, and the second
/// sees the first's delivery ended.
pub async fn open_for_locked<C: ConnectionTrait>(
    db: &C,
    cause_event_id: &str,
) -> Result<Vec<ending::Model>, DbErr> {
    ending::Entity::find()
        .filter(
            Condition::any()
                .add(ending::Column::CauseEventId.eq(cause_event_id))
                .add(ending::Column::HandoffEventId.eq(cause_event_id)),
        )
        .filter(ending::Column::ClosedAt.is_null())
        .order_by_asc(ending::Column::CauseEventId)
        .lock_exclusive()
        .all(db)
        .await
}

/// The statuses of `ending`'s deliveries (its hand-off's too).
pub async fn statuses<C: ConnectionTrait>(
    db: &C,
    ending: &ending::Model,
) -> Result<Vec<Status>, DbErr> {
    let causes: Vec<String> = std::iter::once(ending.cause_event_id.clone())
        .chain(ending.handoff_event_id.clone())
        .collect();
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .filter(delivery::Column::CauseEventId.is_in(causes))
        .into_tuple::<Status>()
        .all(db)
        .await
}

/// Close `ending` at `now`; false when it was closed already.
pub async fn close<C: ConnectionTrait>(
    db: &C,
    ending: &ending::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = ending::Entity::update_many()
        .col_expr(ending::Column::ClosedAt, Expr::value(Some(now)))
        .filter(ending::Column::CauseEventId.eq(ending.cause_event_id.clone()))
        .filter(ending::Column::ClosedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// A referral's endings, oldest first.
pub async fn of_referral<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<ending::Model>, DbErr> {
    ending::Entity::find()
        .filter(ending::Column::ReferralId.eq(referral_id))
        .order_by_asc(ending::Column::CreatedAt)
        .all(db)
        .await
}
