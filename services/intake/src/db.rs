//! Intake's tables. Only intake stores patient identifiers, and only here.

use pathway_common::db::{PlumbingMigration, create_index, create_table};
use sea_orm_migration::prelude::*;

pub mod referral {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        pub status: String,
        /// `remote_pathway` or `standard`.
        pub route: String,
        pub patient_pseudonym: String,
        /// Token subject of the referrer who sent it.
        pub referrer_subject: String,
        pub practice_code: String,
        /// The validated referral (identifiable) as JSON.
        #[sea_orm(column_type = "Text")]
        pub document: String,
        pub received_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Bumped by every change; the ETag.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub referral_id: String,
        /// e.g. `referral.received`, `vetting.claimed`.
        pub kind: String,
        /// Status after the event.
        pub status: String,
        pub occurred_at: DateTimeUtc,
        pub actor: String,
        /// Non-identifying detail, as JSON.
        #[sea_orm(column_type = "Text", nullable)]
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod open_referral {
    use sea_orm::entity::prelude::*;

    /// One row per patient and board with a referral still open: the primary
    /// key makes a racing duplicate fail in the database, not only in a check.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "open_referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub patient_pseudonym: String,
        pub referral_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// SHA-256 of the request body: the same key with another body is refused.
        pub request_hash: String,
        pub status_code: i32,
        #[sea_orm(column_type = "Text")]
        pub response: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod information_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "information_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub requested_by: String,
        pub requested_at: DateTimeUtc,
        /// What the clinician asked (clinical free text; added by
        /// `m0003_board_settings`, so older requests have none).
        #[sea_orm(column_type = "Text", nullable)]
        pub question: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub answer: Option<String>,
        pub answered_by: Option<String>,
        pub answered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pathway_change {
    use sea_orm::entity::prelude::*;

    /// Every switch on or off, kept: analytics needs the adoption date.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pathway_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        pub enabled: bool,
        pub effective_date: Date,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod board_settings_change {
    use sea_orm::entity::prelude::*;

    /// Every settings document a board admin stored, kept: the latest is in
    /// force, the others say who changed what and when.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        /// The whole `BoardSettings` document as stored, as JSON.
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod postcode {
    use sea_orm::entity::prelude::*;

    /// The board-loaded lookup from postcode to de-identified area attributes.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "postcode_attributes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub postcode: String,
        /// Scottish Government 6-fold urban/rural class, 1-6.
        pub urban_rural_class: i32,
        /// SIMD quintile, 1 (most deprived) to 5.
        pub simd_quintile: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(IntakeTables),
            Box::new(BoardSettingsTables),
        ]
    }
}

#[cfg(test)]
#[path = "tests/db.rs"]
mod tests;
