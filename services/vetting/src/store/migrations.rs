//! Vetting's migrations: the plumbing tables every service has, then its own.

use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::{board_settings, clinical_text, information_request, outcome, worklist};

struct VettingTables;

impl MigrationName for VettingTables {
    fn name(&self) -> &str {
        "m0002_vetting"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for VettingTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, worklist::Entity).await?;
        create_index(
            manager,
            "worklist",
            "worklist_board_status",
            &["board", "status"],
            false,
        )
        .await?;
        create_index(
            manager,
            "worklist",
            "worklist_lease",
            &["status", "lease_expires_at"],
            false,
        )
        .await?;
        create_table(manager, information_request::Entity).await?;
        create_index(
            manager,
            "information_requests",
            "information_requests_referral",
            &["referral_id"],
            false,
        )
        .await?;
        create_table(manager, outcome::Entity).await?;
        create_index(
            manager,
            "outcomes",
            "outcomes_referral",
            &["referral_id", "recorded_at"],
            false,
        )
        .await?;
        board_settings::migrate(manager).await?;
        Ok(())
    }
}

/// `board_settings` as decision keeps it: who changed the settings and the
/// event that said so, beside the document, so that an older change
/// redelivered late no longer undoes a newer one. `m0002_vetting` creates the
/// table whole in a new database; one made before lacks the two columns.
struct BoardSettingsColumns;

impl MigrationName for BoardSettingsColumns {
    fn name(&self) -> &str {
        "m0003_board_settings_columns"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BoardSettingsColumns {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        board_settings::migrate(manager).await
    }
}

/// Clinicians' free text, kept here under the ids events carry instead of
/// it (`docs/decisions/0024-clinical-text-off-the-stream.md`).
struct ClinicalTexts;

impl MigrationName for ClinicalTexts {
    fn name(&self) -> &str {
        "m0004_clinical_texts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ClinicalTexts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, clinical_text::Entity).await?;
        create_index(
            manager,
            "clinical_texts",
            "clinical_texts_referral",
            &["referral_id"],
            false,
        )
        .await
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(VettingTables),
            Box::new(BoardSettingsColumns),
            Box::new(board_settings::VersionsMigration),
            Box::new(ClinicalTexts),
            Box::new(super::patients::PatientRequestTables),
        ]
    }
}
