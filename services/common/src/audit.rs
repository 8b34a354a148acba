//! The audit trail: who did what to which referral, when (UTC), from where and
//! why. Rows are only ever inserted, in the same transaction as the change or
//! read they record. A board's admins read the trail a page at a time
//! ([`trail`]), oldest first.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, Caller, Role};
use crate::validation::FieldError;

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

/// A page of a board's audit trail, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `after` for the next page, as it is; absent on the last page.
    pub next_after: Option<String>,
}

/// `GET /v1/boards/{board}/audit`'s query as it arrives; [`AuditQuery::parse`]
/// checks it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this referral's rows.
    pub referral_id: Option<String>,
    /// Rows in the page: 1 to 500, 50 when left out.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// `next_after` of the previous page, as it was given: only later rows follow.
    pub after: Option<String>,
}

/// Which rows of a board's audit trail to read: [`AuditQuery`] once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailQuery {
    referral_id: Option<String>,
    limit: u64,
    after: Option<TrailCursor>,
}

/// Where a page of the audit trail ended: the last row's time and id, the
/// order the trail is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrailCursor {
    at: DateTime<Utc>,
    id: String,
}

impl TrailCursor {
    fn of(row: &entity::Model) -> Self {
        Self {
            at: row.at,
            id: row.id.clone(),
        }
    }

    /// `<seconds>.<nanoseconds>.<id>`: exact, so no row is skipped or repeated.
    fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.at.timestamp(),
            self.at.timestamp_subsec_nanos(),
            self.id
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        let seconds: i64 = parts.next()?.parse().ok()?;
        let nanos: u32 = parts.next()?.parse().ok()?;
        let id = parts.next()?;
        uuid::Uuid::parse_str(id).ok()?;
        Some(Self {
            at: DateTime::from_timestamp(seconds, nanos)?,
            id: id.to_owned(),
        })
    }
}

impl AuditQuery {
    /// The query, or every parameter that is not valid.
    pub fn parse(&self) -> Result<TrailQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match crate::page::limit(self.limit.as_deref()) {
            Ok(limit) => limit,
            Err(error) => {
                errors.push(error);
                crate::page::DEFAULT_LIMIT
            }
        };
        let after = match self.after.as_deref().map(TrailCursor::decode) {
            None => None,
            Some(Some(cursor)) => Some(cursor),
            Some(None) => {
                errors.push(FieldError::new(
                    "after",
                    "must be the next_after of a previous page, as it was given",
                ));
                None
            }
        };
        if errors.is_empty() {
            Ok(TrailQuery {
                referral_id: self.referral_id.clone(),
                limit,
                after,
            })
        } else {
            Err(errors)
        }
    }
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

/// A page of a board's audit trail in this service, oldest first: for the
/// board's admins only.
pub async fn trail<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    board: &str,
    query: &TrailQuery,
) -> Result<AuditPage, TrailError> {
    caller.require_role(&[Role::BoardAdmin])?;
    caller.require_board(board)?;
    let mut select = entity::Entity::find().filter(entity::Column::Board.eq(board));
    if let Some(id) = &query.referral_id {
        select = select.filter(entity::Column::ReferralId.eq(id.clone()));
    }
    if let Some(after) = &query.after {
        select = select.filter(
            Condition::any().add(entity::Column::At.gt(after.at)).add(
                Condition::all()
                    .add(entity::Column::At.eq(after.at))
                    .add(entity::Column::Id.gt(after.id.clone())),
            ),
        );
    }
    // One more than asked says whether a next page exists.
    let mut rows = select
        .order_by_asc(entity::Column::At)
        .order_by_asc(entity::Column::Id)
        .limit(query.limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > query.limit;
    rows.truncate(query.limit as usize);
    let next_after = more
        .then(|| rows.last().map(|r| TrailCursor::of(r).encode()))
        .flatten();
    Ok(AuditPage {
        rows: rows
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
            .collect(),
        next_after,
    })
}

#[cfg(test)]
#[path = "tests/audit.rs"]
mod tests;
