//! `board_settings_changes`: each board's settings document after every change.

use sea_orm::entity::prelude::*;

/// A board's settings document after a change (`board.settings_changed`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "board_settings_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub board: String,
    #[sea_orm(column_type = "Text")]
    pub settings_json: String,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
