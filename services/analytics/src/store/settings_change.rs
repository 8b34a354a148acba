//! `board_settings_changes`: each board's settings document after every change.

use sea_orm::entity::prelude::*;
use sea_orm_migration::prelude::{Alias, ColumnDef, MigrationName, MigrationTrait, SchemaManager};
use sea_orm_migration::prelude::{Table, async_trait};

/// A board's settings document after a change (`board.settings_changed`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "board_settings_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub board: String,
    #[sea_orm(column_type = "Text")]
    pub settings_json: String,
    pub changed_at: DateTimeUtc,
    /// The Scottish day from which the document is in force; `None` for a
    /// change that said none (in force from the day it was saved).
    pub effective_date: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Adds `effective_date` to a table made before it; the changes already
/// kept read as in force from the day they were saved.
pub struct EffectiveDates;

impl MigrationName for EffectiveDates {
    fn name(&self) -> &str {
        "m0005_settings_effective_dates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for EffectiveDates {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `m0002_analytics` creates the table from today's entity.
        if manager
            .has_column("board_settings_changes", "effective_date")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("board_settings_changes"))
                    .add_column(ColumnDef::new(Alias::new("effective_date")).date().null())
                    .to_owned(),
            )
            .await
    }
}
