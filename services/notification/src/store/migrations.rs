//! The notification service's migrations, after the plumbing tables every
//! service has.

use pathway_common::board_settings;
use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::{board_notification, delivery, ending};

struct HeldNotices;

impl MigrationName for HeldNotices {
    fn name(&self) -> &str {
        "m0009_held_notices"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for HeldNotices {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("deliveries", "waits_for").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("deliveries"))
                        .add_column(ColumnDef::new(Alias::new("waits_for")).string().null())
                        .to_owned(),
                )
                .await?;
        }
        // A hand-off's referrer has two notices held under one cause and
        // channel, told apart by their template.
        if manager
            .has_index("deliveries", "deliveries_cause_recipient_channel")
            .await?
        {
            manager
                .drop_index(
                    Index::drop()
                        .name("deliveries_cause_recipient_channel")
                        .table(Alias::new("deliveries"))
                        .to_owned(),
                )
                .await?;
        }
        create_index(
            manager,
            "deliveries",
            "deliveries_cause_recipient_channel_template",
            &["cause_event_id", "recipient", "channel", "template"],
            true,
        )
        .await?;
        create_index(
            manager,
            "deliveries",
            "deliveries_waits_for",
            &["waits_for"],
            false,
        )
        .await
    }
}

struct EndingsTable;

impl MigrationName for EndingsTable {
    fn name(&self) -> &str {
        "m0008_endings"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for EndingsTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, ending::Entity).await?;
        create_index(
            manager,
            "endings",
            "endings_handoff",
            &["handoff_event_id"],
            false,
        )
        .await?;
        create_index(
            manager,
            "endings",
            "endings_referral",
            &["referral_id", "created_at"],
            false,
        )
        .await
    }
}

struct DeliveryAccount;

impl MigrationName for DeliveryAccount {
    fn name(&self) -> &str {
        "m0004_delivery_account"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for DeliveryAccount {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `m0002_notification` creates the table from today's entity, so a
        // new database already has the column; one made before it has not.
        if !manager.has_column("deliveries", "account").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("deliveries"))
                        .add_column(ColumnDef::new(Alias::new("account")).string().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

struct BoardNotificationTable;

impl MigrationName for BoardNotificationTable {
    fn name(&self) -> &str {
        "m0003_board_notification"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for BoardNotificationTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, board_notification::Entity).await
    }
}

struct NotificationTables;

impl MigrationName for NotificationTables {
    fn name(&self) -> &str {
        "m0002_notification"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for NotificationTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, delivery::Entity).await?;
        // One delivery per recipient and channel of a cause, whatever replays.
        create_index(
            manager,
            "deliveries",
            "deliveries_cause_recipient_channel",
            &["cause_event_id", "recipient", "channel"],
            true,
        )
        .await?;
        create_index(
            manager,
            "deliveries",
            "deliveries_referral",
            &["referral_id", "created_at"],
            false,
        )
        .await?;
        create_index(
            manager,
            "deliveries",
            "deliveries_status",
            &["status", "board", "created_at"],
            false,
        )
        .await?;
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(NotificationTables),
            Box::new(BoardNotificationTable),
            Box::new(DeliveryAccount),
            Box::new(board_settings::VersionsMigration),
            Box::new(pathway_common::crypto::DataKeysMigration),
            Box::new(pathway_common::erasure::ErasureTable),
            Box::new(EndingsTable),
            Box::new(HeldNotices),
        ]
    }
}
