//! The decision service's migrations: the shared plumbing tables first, then
//! its own. The tables are created from the entities, so a column's type is
//! declared once, on the entity.

use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::{board_settings, decision, opt_in_window};

struct DecisionTables;

impl MigrationName for DecisionTables {
    fn name(&self) -> &str {
        "m0002_decision"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for DecisionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, decision::Entity).await?;
        create_index(
            manager,
            "decisions",
            "decisions_referral_sequence",
            &["referral_id", "sequence"],
            true,
        )
        .await?;
        create_index(
            manager,
            "decisions",
            "decisions_vetting_event",
            &["vetting_event_id"],
            true,
        )
        .await?;
        create_table(manager, opt_in_window::Entity).await?;
        create_index(
            manager,
            "opt_in_windows",
            "opt_in_windows_open",
            &["resolved_at", "deadline"],
            false,
        )
        .await?;
        create_index(
            manager,
            "opt_in_windows",
            "opt_in_windows_referral",
            &["referral_id"],
            false,
        )
        .await?;
        board_settings::migrate(manager).await?;
        Ok(())
    }
}

/// The reminder before an opt-in window closes: when it is due, and when it
/// was written. Windows opened before it have neither, and get none.
struct OptInReminders;

impl MigrationName for OptInReminders {
    fn name(&self) -> &str {
        "m0101_opt_in_reminders"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for OptInReminders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["remind_at", "reminded_at"] {
            // A database created after the columns existed has them already.
            if manager.has_column("opt_in_windows", name).await? {
                continue;
            }
            // SQLite adds one column per statement.
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("opt_in_windows"))
                        .add_column(
                            ColumnDef::new(Alias::new(name))
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        create_index(
            manager,
            "opt_in_windows",
            "opt_in_windows_reminder",
            &["resolved_at", "reminded_at", "remind_at"],
            false,
        )
        .await
    }
}

/// The ids of the clinicians' texts, which vetting keeps: events carry
/// them instead of the text (`docs/decisions/0024`).
struct ClinicalTextIds;

impl MigrationName for ClinicalTextIds {
    fn name(&self) -> &str {
        "m0102_clinical_text_ids"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ClinicalTextIds {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "reason_text_id",
            "advice_text_id",
            "rationale_text_id",
            "red_flag_override_reason_text_id",
        ] {
            // A database created after the columns existed has them already.
            if manager.has_column("decisions", name).await? {
                continue;
            }
            // SQLite adds one column per statement.
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("decisions"))
                        .add_column(ColumnDef::new(Alias::new(name)).string().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(DecisionTables),
            Box::new(board_settings::VersionsMigration),
            Box::new(OptInReminders),
            Box::new(ClinicalTextIds),
        ]
    }
}
