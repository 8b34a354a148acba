//! The `board_notification` table: each board's latest notification settings.

use sea_orm::entity::prelude::*;

/// A board's notification settings as its latest `board.settings_changed`
/// gave them (kept in the inbox transaction).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "board_notification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub board: String,
    /// The `notification` section as JSON; `None` when the board's
    /// settings have none (this service's own configuration applies).
    #[sea_orm(column_type = "Text", nullable)]
    pub notification_json: Option<String>,
    pub changed_by: String,
    pub changed_at: DateTimeUtc,
    /// The event that carried it: the version the cache is keyed by.
    pub event_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
