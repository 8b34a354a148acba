//! What a service removed under one erasure request, for every service
//! that holds a patient's data besides intake (vetting, notification): the
//! `erasures` table each keeps (a row per referral it acted on, with how many
//! rows of each kind went), its migration, and the answer of
//! `GET /v1/erasures/{id}`, in one shape, so that `pathway patient erase` can
//! put the whole report together.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthError, Caller, Role};

/// One service's part of an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureReport {
    pub erasure_id: String,
    /// `vetting` or `notification`.
    pub service: String,
    /// Each referral of the request this service has acted on, with what it
    /// removed.
    pub referrals: Vec<ErasedReferral>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasedReferral {
    pub referral_id: String,
    pub board: String,
    /// Rows removed or emptied, by kind (`clinical_texts`, `messages`, ...).
    pub removed: BTreeMap<String, u64>,
    pub done_at: DateTime<Utc>,
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// What the service removed of one referral under one erasure request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "erasures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub erasure_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        /// Rows removed or emptied, by kind, as a JSON object.
        #[sea_orm(column_type = "Text")]
        pub removed: String,
        pub done_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Keep what went of `referral_id` of `board` under `erasure_id`, in the
/// transaction that removed it; a redelivered erasure keeps the first count.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
    referral_id: &str,
    board: &str,
    removed: &BTreeMap<String, u64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let removed = serde_json::to_string(removed)
        .map_err(|e| DbErr::Custom(format!("cannot keep an erasure's counts: {e}")))?;
    entity::Entity::insert(entity::ActiveModel {
        erasure_id: Set(erasure_id.to_owned()),
        referral_id: Set(referral_id.to_owned()),
        board: Set(board.to_owned()),
        removed: Set(removed),
        done_at: Set(now),
    })
    .on_conflict_do_nothing_on([entity::Column::ErasureId, entity::Column::ReferralId])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Why a report is not given.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Forbidden(#[from] AuthError),
    /// Nothing of `caller`'s boards erased under the id, yet.
    #[error(
        "{service} has erased nothing under {erasure_id} for your boards yet: the request reaches it on the stream, so try again in a moment"
    )]
    NotYet {
        service: &'static str,
        erasure_id: String,
    },
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// `service`'s report of `erasure_id`, of the referrals of `caller`'s boards
/// (a board admin's).
pub async fn report<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    service: &'static str,
    erasure_id: &str,
) -> Result<ErasureReport, ReportError> {
    caller.require_role(&[Role::BoardAdmin])?;
    let rows = entity::Entity::find()
        .filter(entity::Column::ErasureId.eq(erasure_id))
        .all(db)
        .await?;
    let referrals: Vec<ErasedReferral> = rows
        .into_iter()
        .filter(|row| caller.may_act_for(&row.board))
        .map(|row| ErasedReferral {
            removed: serde_json::from_str(&row.removed).unwrap_or_default(),
            referral_id: row.referral_id,
            board: row.board,
            done_at: row.done_at,
        })
        .collect();
    if referrals.is_empty() {
        return Err(ReportError::NotYet {
            service,
            erasure_id: erasure_id.to_owned(),
        });
    }
    Ok(ErasureReport {
        erasure_id: erasure_id.to_owned(),
        service: service.to_owned(),
        referrals,
    })
}

/// The `erasures` table.
pub struct ErasureTable;

impl MigrationName for ErasureTable {
    fn name(&self) -> &str {
        "m0030_erasures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ErasureTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::db::create_table(manager, entity::Entity).await
    }
}
