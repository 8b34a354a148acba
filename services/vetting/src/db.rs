//! Vetting's tables: the worklist (one row per referral on the pathway, with
//! no patient identifier), information requests, the outcomes clinicians
//! recorded and each board's settings.

use pathway_common::db::{PlumbingMigration, create_index, create_table};
use sea_orm_migration::prelude::*;

pub mod worklist {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "worklist")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        /// `awaiting_vetting`, `in_vetting`, `info_requested`, `vetted`,
        /// `withdrawn` or `closed`.
        pub status: String,
        pub received_at: DateTimeUtc,
        /// Red flag codes as a JSON array, e.g. `["history_of_cancer"]`.
        #[sea_orm(column_type = "Text")]
        pub red_flags: String,
        pub red_flag_count: i32,
        pub pain_intensity: i32,
        pub pain_duration_months: i32,
        pub practice_code: String,
        pub age_band: String,
        pub sex: String,
        pub re_referral: bool,
        /// Subject of the clinician holding the claim.
        pub claimed_by: Option<String>,
        pub claimed_by_name: Option<String>,
        pub lease_expires_at: Option<DateTimeUtc>,
        /// An answer from the referrer arrived since the last vetting.
        pub answer_received: bool,
        pub updated_at: DateTimeUtc,
        /// Bumped by every change.
        pub version: i64,
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
        #[sea_orm(column_type = "Text")]
        pub question: String,
        pub requested_by: String,
        pub requested_by_name: Option<String>,
        pub requested_at: DateTimeUtc,
        /// When the referrer's answer arrived; the clock is paused until then.
        pub answered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outcome {
    use sea_orm::entity::prelude::*;

    /// What a clinician recorded, as sent in `vetting.completed`. Never
    /// updated: a correction is another row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outcomes")]
    pub struct Model {
        /// The `vetting.completed` event id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub board: String,
        pub clinician: String,
        pub clinician_name: Option<String>,
        /// The outcome request as JSON (see `domain::outcome::OutcomeRequest`).
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub red_flag_override_reason: Option<String>,
        pub correction: bool,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod board_settings {
    use sea_orm::entity::prelude::*;

    /// The latest `board.settings_changed` document of each board.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
        create_table(manager, board_settings::Entity).await?;
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(PlumbingMigration), Box::new(VettingTables)]
    }
}
