//! The audit trail: who did what to which referral, when (UTC), from where and
//! why. Rows are only ever inserted, in the same transaction as the change or
//! read they record.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, Caller, Role};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub at: DateTimeUtc,
        /// The token's subject, or the service's name.
        pub actor: String,
        pub actor_role: String,
        /// e.g. `referral.create`, `referral.read_identifiable`.
        pub action: String,
        pub referral_id: Option<String>,
        pub board: Option<String>,
        /// Client address, or `nats` for request/reply.
        pub source: String,
        /// Why: the purpose the caller gave, or the endpoint's purpose.
        pub purpose: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub referral_id: Option<String>,
    pub board: Option<&'a str>,
    pub source: &'a str,
    pub purpose: Option<&'a str>,
}

pub async fn record<C: ConnectionTrait>(db: &C, entry: AuditEntry<'_>) -> Result<(), DbErr> {
    entity::Entity::insert(entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        at: Set(Utc::now()),
        actor: Set(entry.actor.to_owned()),
        actor_role: Set(entry.actor_role.to_owned()),
        action: Set(entry.action.to_owned()),
        referral_id: Set(entry.referral_id),
        board: Set(entry.board.map(str::to_owned)),
        source: Set(entry.source.to_owned()),
        purpose: Set(entry.purpose.map(str::to_owned)),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// One row of the audit trail as a board admin reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub referral_id: Option<String>,
    pub source: String,
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this referral's rows.
    pub referral_id: Option<String>,
}

/// Why a board's audit trail could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    /// Not a board admin of this board.
    #[error(transparent)]
    Forbidden(#[from] AuthError),
    #[error("cannot read the audit trail")]
    Database(#[from] DbErr),
}

/// A board's audit trail in this service, oldest first: for the board's admins only.
pub async fn trail<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    board: &str,
    query: &AuditQuery,
) -> Result<Vec<AuditRow>, TrailError> {
    caller.require_role(&[Role::BoardAdmin])?;
    caller.require_board(board)?;
    let mut select = entity::Entity::find().filter(entity::Column::Board.eq(board));
    if let Some(id) = &query.referral_id {
        select = select.filter(entity::Column::ReferralId.eq(id.clone()));
    }
    Ok(select
        .order_by_asc(entity::Column::At)
        .order_by_asc(entity::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| AuditRow {
            at: r.at,
            actor: r.actor,
            actor_role: r.actor_role,
            action: r.action,
            referral_id: r.referral_id,
            source: r.source,
            purpose: r.purpose,
        })
        .collect())
}
