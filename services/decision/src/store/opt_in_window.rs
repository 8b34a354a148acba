//! The `opt_in_windows` table: the patient's window to opt back in after a
//! `patient_opt_in` decision. An open window has no resolution; the others
//! keep the text they always had (`opted_in`, `opt_in_window_passed`,
//! `superseded`), so databases written before [`Resolution`] still read.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect};

use crate::domain::WindowState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opt_in_windows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub decision_id: String,
    pub referral_id: String,
    pub board: String,
    pub deadline: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// How the window ended; none while it is open.
    pub resolution: Option<Resolution>,
    /// When the patient is to be reminded; none for no reminder (and for
    /// windows opened before reminders existed).
    pub remind_at: Option<DateTimeUtc>,
    /// When the reminder was written to the outbox; none until then.
    pub reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How a window ended, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Resolution {
    #[sea_orm(string_value = "opted_in")]
    OptedIn,
    #[sea_orm(string_value = "opt_in_window_passed")]
    Lapsed,
    #[sea_orm(string_value = "superseded")]
    Superseded,
}

impl Resolution {
    /// The stored resolution of a window in `state`; none while open.
    pub fn of(state: WindowState) -> Option<Self> {
        match state {
            WindowState::Open => None,
            WindowState::OptedIn => Some(Resolution::OptedIn),
            WindowState::Lapsed => Some(Resolution::Lapsed),
            WindowState::Superseded => Some(Resolution::Superseded),
        }
    }
}

impl Model {
    pub fn state(&self) -> WindowState {
        match self.resolution {
            None => WindowState::Open,
            Some(Resolution::OptedIn) => WindowState::OptedIn,
            Some(Resolution::Lapsed) => WindowState::Lapsed,
            Some(Resolution::Superseded) => WindowState::Superseded,
        }
    }
}

/// Open a window for `decision_id` until `deadline`, its reminder due at
/// `remind_at`.
pub async fn open<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
    referral_id: &str,
    board: &str,
    deadline: DateTimeUtc,
    remind_at: Option<DateTimeUtc>,
) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        decision_id: sea_orm::Set(decision_id.to_owned()),
        referral_id: sea_orm::Set(referral_id.to_owned()),
        board: sea_orm::Set(board.to_owned()),
        deadline: sea_orm::Set(deadline),
        resolved_at: sea_orm::Set(None),
        resolution: sea_orm::Set(None),
        remind_at: sea_orm::Set(remind_at),
        reminded_at: sea_orm::Set(None),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// A referral's windows, in no particular order.
pub async fn of_referral<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ReferralId.eq(referral_id))
        .all(db)
        .await
}

/// The window of one decision.
pub async fn of_decision<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(decision_id.to_owned()).one(db).await
}

/// Up to `limit` open windows whose deadline is at or before `now`, the
/// oldest deadline first. One order for every instance, so two sweeps ending
/// the same windows lock them in the same order and never deadlock.
pub async fn lapsed<C: ConnectionTrait>(
    db: &C,
    now: DateTimeUtc,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ResolvedAt.is_null())
        .filter(Column::Deadline.lte(now))
        .order_by_asc(Column::Deadline)
        .order_by_asc(Column::DecisionId)
        .limit(limit)
        .all(db)
        .await
}

/// Up to `limit` open windows whose reminder is due at `now` and not yet
/// written, still before their deadline, the earliest first (one order for
/// every instance, as in [`lapsed`]).
pub async fn reminders_due<C: ConnectionTrait>(
    db: &C,
    now: DateTimeUtc,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ResolvedAt.is_null())
        .filter(Column::RemindedAt.is_null())
        .filter(Column::RemindAt.lte(now))
        .filter(Column::Deadline.gt(now))
        .order_by_asc(Column::RemindAt)
        .order_by_asc(Column::DecisionId)
        .limit(limit)
        .all(db)
        .await
}

/// Mark the reminder of `decision_id` written at `at`, if the window is
/// still open and unreminded: false when it was not (another instance got
/// there first, or the patient opted in, or the window ended).
pub async fn mark_reminded<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
    at: DateTimeUtc,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::RemindedAt, Expr::value(at))
        .filter(Column::DecisionId.eq(decision_id))
        .filter(Column::ResolvedAt.is_null())
        .filter(Column::RemindedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// End the window of `decision_id` in `state` at `at`, if it is still open:
/// false when it was not (another instance, or an opt-in, got there first).
pub async fn end<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
    at: DateTimeUtc,
    state: WindowState,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::ResolvedAt, Expr::value(at))
        .col_expr(Column::Resolution, Expr::value(Resolution::of(state)))
        .filter(Column::DecisionId.eq(decision_id))
        .filter(Column::ResolvedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
#[path = "tests/opt_in_window.rs"]
mod tests;
