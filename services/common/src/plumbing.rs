//! The plumbing tables every service migrates first: outbox, inbox, dead
//! letters and audit. Kept apart from [`crate::db`] so that the connection
//! code depends on none of the modules whose tables these are.

use sea_orm_migration::prelude::*;

use crate::db::{create_index, create_table};

/// The plumbing tables every service has: outbox, inbox, dead letters, audit.
pub struct PlumbingMigration;

impl MigrationName for PlumbingMigration {
    fn name(&self) -> &str {
        "m0001_plumbing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PlumbingMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, crate::outbox::entity::Entity).await?;
        create_index(
            manager,
            "outbox",
            "outbox_unpublished",
            &["published_at", "event_id"],
            false,
        )
        .await?;
        create_table(manager, crate::inbox::entity::Entity).await?;
        create_table(manager, crate::inbox::dead_letter::Entity).await?;
        create_table(manager, crate::audit::entity::Entity).await?;
        create_index(
            manager,
            "audit_log",
            "audit_log_referral",
            &["referral_id", "at"],
            false,
        )
        .await?;
        Ok(())
    }
}
