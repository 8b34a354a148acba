//! The `endings` table: a referral's ending (a withdrawal, an opt-in window
//! that passed, a decline, a redirect) whose deliveries must all have ended
//! before `referral.closed` is published.

use sea_orm::entity::prelude::*;

/// One ending, keyed by the event that caused it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "endings")]
pub struct Model {
    /// The event that ended the referral: its deliveries carry this id as
    /// their `cause_event_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub cause_event_id: String,
    /// A redirect's hand-off deliveries are kept under an id of their own
    /// (derived from the decision's event): they must end too.
    pub handoff_event_id: Option<String>,
    pub referral_id: String,
    pub board: String,
    /// The `referral.closed` reason: `withdrawn`, `opt_in_window_passed`,
    /// `declined` or `redirected`.
    pub reason: String,
    pub created_at: DateTimeUtc,
    /// When `referral.closed` went into the outbox; `None` while a delivery
    /// is still to end.
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
