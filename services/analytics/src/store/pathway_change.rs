//! `board_pathway_changes`: each time a board's pathway was switched on or off.

use sea_orm::entity::prelude::*;

/// A board's pathway switched on or off (`board.pathway_changed`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "board_pathway_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub board: String,
    pub enabled: bool,
    pub effective_date: Date,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
