//! A patient's requests about their data, as intake keeps them: the
//! `patient_requests` table (one row per erasure, restriction or lifting a
//! board admin recorded, with the referrals it covered and what intake did),
//! the scrub of an erased referral, and the migration that adds the table
//! and the referral's `erased_at` and `restricted_at`.
//!
//! Everything here runs inside the caller's transaction: a crash before the
//! commit leaves the referral as it was and the request unrecorded, so the
//! board admin's repeat finds it still to do; after the commit the request,
//! the scrub and the events other services act on are all there.

use chrono::{DateTime, Utc};
use pathway_common::db::{create_index, create_table};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;
use serde::{Deserialize, Serialize};

use super::opt_in::invitation;
use super::subscriptions::notification;
use super::{idempotency, information_request, open_referral, referral};

pub mod patient_request {
    use sea_orm::entity::prelude::*;

    /// One request acted on. No patient identifier: the CHI number a board
    /// admin gave is used to find the referrals and then dropped.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "patient_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        /// `erase`, `restrict` or `lift`.
        pub kind: String,
        /// The referral ids it covered, as a JSON array.
        #[sea_orm(column_type = "Text")]
        pub referral_ids: String,
        /// What intake removed or changed, as JSON ([`super::Touched`]).
        #[sea_orm(column_type = "Text")]
        pub touched: String,
        pub requested_by: String,
        pub requested_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What an erasure removed from intake's tables, in rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touched {
    /// Referrals whose patient, letter and contacts were emptied.
    pub referrals: u64,
    /// The referrer's answers and the questions kept with them.
    pub information_requests: u64,
    /// Opt-in links and short codes.
    pub opt_in_links: u64,
    /// FHIR notifications still owed to subscribers.
    pub fhir_notifications: u64,
    /// Answers kept for a referrer's Idempotency-Key.
    pub idempotency_keys: u64,
}

/// Empty what intake holds of the patient of referral `id`: the document
/// (patient, letter, contacts), the pseudonym of their CHI number, the year
/// a child's record is kept to, the answers given to clinicians, the opt-in
/// links, FHIR notifications owed and the duplicate rule's lock. The referral keeps its id, board, status
/// and dates, which carry no identifier, so the pathway's other events about
/// it still have somewhere to land.
pub async fn scrub<C: ConnectionTrait>(
    db: &C,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Touched, DbErr> {
    let referrals = referral::Entity::update_many()
        .col_expr(referral::Column::Document, Expr::value(""))
        .col_expr(referral::Column::PatientPseudonym, Expr::value(""))
        // The year a child's record is kept to tells their birth year.
        .col_expr(referral::Column::KeepUntilYear, Expr::value(Some(0)))
        .col_expr(referral::Column::ErasedAt, Expr::value(Some(now)))
        .col_expr(referral::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            referral::Column::Version,
            Expr::col(referral::Column::Version).add(1),
        )
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::ErasedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    let information_requests = information_request::Entity::delete_many()
        .filter(information_request::Column::ReferralId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    let opt_in_links = invitation::Entity::delete_many()
        .filter(invitation::Column::ReferralId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    let fhir_notifications = notification::Entity::delete_many()
        .filter(notification::Column::ReferralId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    open_referral::Entity::delete_many()
        .filter(open_referral::Column::ReferralId.eq(id))
        .exec(db)
        .await?;
    // The answer kept for a key names the referral (its summary holds no
    // identifier), but the key's body hash is of the patient's details.
    let idempotency_keys = idempotency::Entity::delete_many()
        .filter(idempotency::Column::Response.contains(format!("\"id\":\"{id}\"")))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Touched {
        referrals,
        information_requests,
        opt_in_links,
        fhir_notifications,
        idempotency_keys,
    })
}

/// Restrict referral `id` (`restricted`) or lift its restriction, raising
/// its version; whether it changed.
pub async fn set_restricted<C: ConnectionTrait>(
    db: &C,
    id: &str,
    restricted: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = referral::Entity::update_many()
        .col_expr(
            referral::Column::RestrictedAt,
            Expr::value(restricted.then_some(now)),
        )
        .col_expr(referral::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            referral::Column::Version,
            Expr::col(referral::Column::Version).add(1),
        )
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::ErasedAt.is_null());
    update = if restricted {
        update.filter(referral::Column::RestrictedAt.is_null())
    } else {
        update.filter(referral::Column::RestrictedAt.is_not_null())
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// The `patient_requests` table and the referral's two new columns.
pub(super) struct PatientRequestTables;

impl MigrationName for PatientRequestTables {
    fn name(&self) -> &str {
        "m0009_patient_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PatientRequestTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, patient_request::Entity).await?;
        create_index(
            manager,
            "patient_requests",
            "patient_requests_board",
            &["board", "requested_at"],
            false,
        )
        .await?;
        // `m0002_intake` creates `referrals` from today's entity, so a new
        // database has the columns already; one made before has not.
        for column in ["erased_at", "restricted_at"] {
            if !manager.has_column("referrals", column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new("referrals"))
                            .add_column(
                                ColumnDef::new(Alias::new(column))
                                    .timestamp_with_time_zone()
                                    .null(),
                            )
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
