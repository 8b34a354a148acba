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

/// The board of each information request, whose data key seals its
/// question (`encrypted`): `m0002_vetting` creates the column in a new
/// database; in one made before, each request takes its worklist row's board.
/// A request with no worklist row keeps an empty board, and its question is
/// not encrypted by the backfill (there is no data key to take).
struct InformationRequestBoard;

impl MigrationName for InformationRequestBoard {
    fn name(&self) -> &str {
        "m0005_information_requests_board"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InformationRequestBoard {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("information_requests", "board").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("information_requests"))
                    .add_column(
                        ColumnDef::new(Alias::new("board"))
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE information_requests SET board = COALESCE((SELECT w.board FROM worklist w \
                 WHERE w.referral_id = information_requests.referral_id), '')",
            )
            .await?;
        Ok(())
    }
}

/// When each information request was found overdue
/// (`application::information_reminder`): `m0002_vetting` creates the column
/// in a new database; in one made before, every request starts not overdue,
/// and the next sweep marks those already past the board's working days.
struct InformationRequestOverdue;

impl MigrationName for InformationRequestOverdue {
    fn name(&self) -> &str {
        "m0007_information_requests_overdue"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InformationRequestOverdue {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager
            .has_column("information_requests", "overdue_at")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("information_requests"))
                    .add_column(
                        ColumnDef::new(Alias::new("overdue_at"))
                            .timestamp_with_time_zone()
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
            Box::new(VettingTables),
            Box::new(BoardSettingsColumns),
            Box::new(board_settings::VersionsMigration),
            Box::new(ClinicalTexts),
            Box::new(pathway_common::crypto::DataKeysMigration),
            Box::new(InformationRequestBoard),
            Box::new(super::patients::PatientRequestTables),
            Box::new(pathway_common::erasure::ErasureTable),
            Box::new(InformationRequestOverdue),
        ]
    }
}
