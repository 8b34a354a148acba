//! FHIR `Subscription`s and the notifications they are owed, with the
//! migration that adds both tables.
//!
//! A notification row is written in the transaction that changes a
//! referral's status ([`enqueue_for`], called from
//! [`queries::set_status`](super::queries::set_status)), one per matching
//! active subscription: the change and the promise to tell the subscriber
//! commit together or not at all. A worker sends the rows later and marks
//! them; PostgreSQL's `FOR UPDATE SKIP LOCKED` keeps two instances off one
//! row.

use chrono::{DateTime, Utc};
use pathway_common::db::{create_index, create_table};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sea_orm_migration::prelude::*;

use super::referral;

/// A subscription is sending.
pub const ACTIVE: &str = "active";
/// A subscriber answered a notification with a 4xx: nothing more is sent.
pub const ERROR: &str = "error";

pub mod subscription {
    use sea_orm::entity::prelude::*;

    /// One `Subscription`: whose it is, which Tasks it matches, where to.
    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fhir_subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The token subject that created it; only it reads or deletes it.
        pub owner_subject: String,
        /// `referrer` (its own referrals only) or `clinician`.
        pub owner_role: String,
        pub practice_code: String,
        /// The boards it covers, comma-separated; `*` for every board.
        pub boards: String,
        /// `Subscription.criteria` as given.
        #[sea_orm(column_type = "Text")]
        pub criteria: String,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        #[sea_orm(column_type = "Text")]
        pub endpoint: String,
        /// `application/fhir+json`, or none for an empty notification.
        pub payload: Option<String>,
        /// `channel.header` as a JSON array of `"Name: value"` strings.
        #[sea_orm(column_type = "Text")]
        pub headers: String,
        /// `active` or `error`.
        pub status: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// The headers may hold the subscriber's credentials: never logged.
    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Subscription")
                .field("id", &self.id)
                .field("practice_code", &self.practice_code)
                .field("boards", &self.boards)
                .field("endpoint", &self.endpoint)
                .field("status", &self.status)
                .field("headers", &"***")
                .finish_non_exhaustive()
        }
    }
}

pub mod notification {
    use sea_orm::entity::prelude::*;

    /// One notification owed: the referral's Task changed to `version`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fhir_subscription_notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub subscription_id: String,
        pub referral_id: String,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        /// Given up on (a 4xx, or the subscription deleted or in error).
        pub failed_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Whether `sub` matches a change of `row`: the same practice, a board it
/// covers, and for a referrer's subscription the referrer's own referral.
pub fn matches(sub: &subscription::Model, row: &referral::Model) -> bool {
    sub.status == ACTIVE
        && sub.practice_code == row.practice_code
        && sub.boards.split(',').any(|b| b == "*" || b == row.board)
        && (sub.owner_role != "referrer" || sub.owner_subject == row.referrer_subject)
}

/// Owe every matching active subscription a notification of `row`'s
/// change, in the caller's transaction.
pub async fn enqueue_for<C: ConnectionTrait>(db: &C, row: &referral::Model) -> Result<(), DbErr> {
    let subscriptions = subscription::Entity::find()
        .filter(subscription::Column::Status.eq(ACTIVE))
        .filter(subscription::Column::PracticeCode.eq(row.practice_code.as_str()))
        .all(db)
        .await?;
    let now = Utc::now();
    for sub in subscriptions.iter().filter(|s| matches(s, row)) {
        notification::Entity::insert(notification::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            subscription_id: Set(sub.id.clone()),
            referral_id: Set(row.id.clone()),
            version: Set(row.version),
            created_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            sent_at: Set(None),
            failed_at: Set(None),
            last_error: Set(None),
        })
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Up to `limit` notifications due by `now`, oldest first, locked against
/// other instances (PostgreSQL; SQLite has one instance per file).
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::SentAt.is_null())
        .filter(notification::Column::FailedAt.is_null())
        .filter(notification::Column::NextAttemptAt.lte(now))
        .order_by_asc(notification::Column::NextAttemptAt)
        .order_by_asc(notification::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// What became of one attempt at a notification.
#[derive(Debug, Clone)]
pub enum Attempt {
    Sent,
    /// Try again at `next`.
    Retry {
        next: DateTime<Utc>,
        error: String,
    },
    /// Never again.
    GiveUp {
        error: String,
    },
}

/// Record `attempt` on notification `row`.
pub async fn mark<C: ConnectionTrait>(
    db: &C,
    row: notification::Model,
    attempt: Attempt,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let attempts = row.attempts + 1;
    let mut active: notification::ActiveModel = row.into();
    active.attempts = Set(attempts);
    match attempt {
        Attempt::Sent => active.sent_at = Set(Some(now)),
        Attempt::Retry { next, error } => {
            active.next_attempt_at = Set(next);
            active.last_error = Set(Some(error));
        }
        Attempt::GiveUp { error } => {
            active.failed_at = Set(Some(now));
            active.last_error = Set(Some(error));
        }
    }
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}

/// Give up every notification still owed to `subscription_id`.
pub async fn abandon_pending<C: ConnectionTrait>(
    db: &C,
    subscription_id: &str,
    reason: &str,
) -> Result<u64, DbErr> {
    let result = notification::Entity::update_many()
        .col_expr(notification::Column::FailedAt, Expr::value(Utc::now()))
        .col_expr(notification::Column::LastError, Expr::value(reason))
        .filter(notification::Column::SubscriptionId.eq(subscription_id))
        .filter(notification::Column::SentAt.is_null())
        .filter(notification::Column::FailedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The FHIR subscription tables.
pub struct SubscriptionTables;

impl MigrationName for SubscriptionTables {
    fn name(&self) -> &str {
        "m0005_fhir_subscriptions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SubscriptionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, subscription::Entity).await?;
        create_index(
            manager,
            "fhir_subscriptions",
            "fhir_subscriptions_practice",
            &["practice_code", "status"],
            false,
        )
        .await?;
        create_table(manager, notification::Entity).await?;
        create_index(
            manager,
            "fhir_subscription_notifications",
            "fhir_subscription_notifications_due",
            &["sent_at", "failed_at", "next_attempt_at"],
            false,
        )
        .await?;
        create_index(
            manager,
            "fhir_subscription_notifications",
            "fhir_subscription_notifications_subscription",
            &["subscription_id"],
            false,
        )
        .await?;
        Ok(())
    }
}
