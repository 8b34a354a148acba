//! The notification service's tables: deliveries, one per recipient and
//! channel of each cause; and each board's latest notification settings.

use pathway_common::db::{PlumbingMigration, create_index, create_table};
use sea_orm_migration::prelude::*;

pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// One message to one recipient on one channel. Its id is the gateway
    /// `reference`, so a send in doubt can be looked up.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub board: String,
        /// The event that caused it: a `decision.recorded` or a `vetting.info_requested`.
        pub cause_event_id: String,
        /// `decision` or `information_request`.
        pub cause: String,
        /// `referrer`, `patient` or `receiving_service`.
        pub recipient: String,
        /// `sms`, `email`, `letter` or `webhook`.
        pub channel: String,
        /// The receiving service's code, for onward referrals.
        pub receiving_service: Option<String>,
        /// Template name, e.g. `patient/accept`.
        pub template: String,
        /// The one contact this delivery needs (a mobile number, an e-mail
        /// address, a postal address or a webhook URL); emptied once sent.
        #[sea_orm(column_type = "Text")]
        pub address: String,
        #[sea_orm(column_type = "Text")]
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// The webhook's JSON document (webhooks only).
        #[sea_orm(column_type = "Text", nullable)]
        pub document: Option<String>,
        /// `planned`, `sending`, `sent` or `failed`.
        pub status: String,
        /// Requests made to the gateway.
        pub attempts: i32,
        /// Times a worker took it; a worker finishes it only if nobody took it since.
        pub claims: i32,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        /// Which gateway took it (`notify`, `webhook`, `sink`) and its own id.
        pub gateway: Option<String>,
        /// The Notify account or SMTP server (by name) it goes out through,
        /// set when it is planned and again when it is taken to be sent; a
        /// send in doubt is looked up there. `None` is `default`, or a
        /// gateway with no accounts (webhooks, the folder).
        pub account: Option<String>,
        pub gateway_id: Option<String>,
        /// What the gateway last said of it through its status callback
        /// (Notify: `delivered`, `permanent-failure`, ...), and when.
        pub gateway_status: Option<String>,
        pub gateway_status_at: Option<DateTimeUtc>,
        /// While `sending`: until when the worker holds it.
        pub lease_until: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod board_notification {
    use sea_orm::entity::prelude::*;

    /// A board's notification settings as its latest `board.settings_changed`
    /// gave them (kept in the inbox transaction).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_notification")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        /// The `notification` section as JSON; `None` when the board's
        /// settings have none (this service's own configuration applies).
        #[sea_orm(column_type = "Text", nullable)]
        pub notification_json: Option<String>,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        /// The event that carried it: the version the cache is keyed by.
        pub event_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
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
        ]
    }
}
