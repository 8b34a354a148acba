//! Analytics' migrations: the plumbing every service has, then its own
//! tables.

use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::{fact, pathway_change, settings_change};

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
