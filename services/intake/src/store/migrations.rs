//! Intake's migrations: the plumbing tables, then its own. New databases are
//! created from today's entities; later migrations bring older ones level.

use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::entities::{
    board_settings_change, history, idempotency, information_request, open_referral,
    pathway_change, postcode, referral,
};

struct IntakeTables;

impl MigrationName for IntakeTables {
    fn name(&self) -> &str {
        "m0002_intake"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IntakeTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, referral::Entity).await?;
        create_index(
            manager,
            "referrals",
            "referrals_board_status",
            &["board", "status"],
            false,
        )
        .await?;
        create_table(manager, history::Entity).await?;
        create_index(
            manager,
            "referral_history",
            "history_referral",
            &["referral_id", "occurred_at"],
            false,
        )
        .await?;
        create_table(manager, open_referral::Entity).await?;
        create_table(manager, idempotency::Entity).await?;
        create_table(manager, information_request::Entity).await?;
        create_index(
            manager,
            "information_requests",
            "information_requests_referral",
            &["referral_id"],
            false,
        )
        .await?;
        create_table(manager, pathway_change::Entity).await?;
        create_index(
            manager,
            "pathway_changes",
            "pathway_changes_board",
            &["board", "effective_date"],
            false,
        )
        .await?;
        create_table(manager, postcode::Entity).await?;
        Ok(())
    }
}

/// Board settings kept with who and when, and the question of each
/// information request.
struct BoardSettingsTables;

impl MigrationName for BoardSettingsTables {
    fn name(&self) -> &str {
        "m0003_board_settings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BoardSettingsTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, board_settings_change::Entity).await?;
        create_index(
            manager,
            "board_settings_changes",
            "board_settings_changes_board",
            &["board", "changed_at"],
            false,
        )
        .await?;
        // `m0002_intake` creates its tables from today's entities, so a new
        // database already has the column; one made before it has not.
        if !manager
            .has_column("information_requests", "question")
            .await?
        {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("information_requests"))
                        .add_column(ColumnDef::new(Alias::new("question")).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The Scottish day each settings change is in force from; the changes
/// kept before it read as in force from the day they were saved.
struct SettingsEffectiveDates;

impl MigrationName for SettingsEffectiveDates {
    fn name(&self) -> &str {
        "m0007_settings_effective_dates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SettingsEffectiveDates {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `m0003_board_settings` creates the table from today's entity.
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

/// `referrals.keep_until_year` (`crate::domain::retention`): created with
/// the table in a new database; in one made before, null until the start
/// works it out from each document (`super::encrypted::backfill`).
struct KeepUntilYear;

impl MigrationName for KeepUntilYear {
    fn name(&self) -> &str {
        "m0008_referrals_keep_until_year"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for KeepUntilYear {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("referrals", "keep_until_year").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("referrals"))
                    .add_column(
                        ColumnDef::new(Alias::new("keep_until_year"))
                            .integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(IntakeTables),
            Box::new(BoardSettingsTables),
            Box::new(super::appointments::AppointmentTables),
            Box::new(super::subscriptions::SubscriptionTables),
            Box::new(super::opt_in::OptInTables),
            Box::new(SettingsEffectiveDates),
            Box::new(pathway_common::crypto::DataKeysMigration),
            Box::new(KeepUntilYear),
            Box::new(super::patients::PatientRequestTables),
        ]
    }
}

#[cfg(test)]
#[path = "tests/migrations.rs"]
mod tests;
