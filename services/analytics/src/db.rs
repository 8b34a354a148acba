//! Analytics' tables: one de-identified fact per referral, and each board's
//! pathway changes and settings changes (all kept, for adoption dates and
//! calendars).

use pathway_common::db::{PlumbingMigration, create_index, create_table};
use sea_orm_migration::prelude::*;

pub mod fact {
    use sea_orm::entity::prelude::*;

    /// One referral, de-identified. Times are UTC; milestones keep their
    /// first time, the outcome its latest value.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral_facts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        /// `remote` or `standard`; null until the referral's receipt is seen.
        pub route: Option<String>,
        pub received_at: Option<DateTimeUtc>,
        pub age_band: String,
        pub sex: String,
        pub urban_rural_class: i16,
        pub simd_quintile: i16,
        pub patient_pseudonym: String,
        pub red_flags: i32,
        pub re_referral: bool,
        pub claimed_at: Option<DateTimeUtc>,
        /// The information requests and their answers, as JSON.
        #[sea_orm(column_type = "Text")]
        pub pauses_json: String,
        pub vetted_at: Option<DateTimeUtc>,
        pub decided_at: Option<DateTimeUtc>,
        pub outcome: Option<String>,
        pub priority: Option<String>,
        pub notified_at: Option<DateTimeUtc>,
        pub notification_failures: i32,
        pub withdrawn_at: Option<DateTimeUtc>,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pathway_change {
    use sea_orm::entity::prelude::*;

    /// A board's pathway switched on or off (`board.pathway_changed`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
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
}

pub mod settings_change {
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
}

struct AnalyticsTables;

impl MigrationName for AnalyticsTables {
    fn name(&self) -> &str {
        "m0002_analytics"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for AnalyticsTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, fact::Entity).await?;
        create_index(
            manager,
            "referral_facts",
            "referral_facts_board_received",
            &["board", "received_at"],
            false,
        )
        .await?;
        create_table(manager, pathway_change::Entity).await?;
        create_table(manager, settings_change::Entity).await?;
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(PlumbingMigration), Box::new(AnalyticsTables)]
    }
}
