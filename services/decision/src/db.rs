//! The decision service's tables: decisions (insert only), opt-in windows and
//! each board's latest settings.

use pathway_common::db::{PlumbingMigration, create_index, create_table};
use sea_orm_migration::prelude::*;

pub mod decision {
    use sea_orm::entity::prelude::*;

    /// One decision. Rows are inserted, never updated or deleted: a
    /// correction is a new row that names the one it supersedes.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "decisions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub board: String,
        /// 1 for the referral's first decision, then one more each time;
        /// unique per referral, so two racing decisions cannot both land.
        pub sequence: i32,
        pub supersedes_decision_id: Option<String>,
        /// The `vetting.completed` event this decision came from.
        pub vetting_event_id: String,
        /// Outcome code, e.g. `accept`.
        pub outcome: String,
        pub priority: Option<String>,
        pub mode: Option<String>,
        pub partner: Option<String>,
        pub rejection_reason: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub reason: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub advice: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub rationale: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub red_flag_override_reason: Option<String>,
        pub clinician: String,
        pub decided_at: DateTimeUtc,
        pub target_date: Option<Date>,
        pub opt_in_deadline: Option<DateTimeUtc>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod opt_in_window {
    use sea_orm::entity::prelude::*;

    /// The patient's window to opt back in after a `patient_opt_in` decision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opt_in_windows")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        pub referral_id: String,
        pub board: String,
        pub deadline: DateTimeUtc,
        pub resolved_at: Option<DateTimeUtc>,
        /// `opted_in`, `opt_in_window_passed` or `superseded`.
        pub resolution: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod board_settings {
    use sea_orm::entity::prelude::*;

    /// Each board's latest settings document, from `board.settings_changed`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        pub event_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
        create_table(manager, board_settings::Entity).await?;
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(PlumbingMigration), Box::new(DecisionTables)]
    }
}
