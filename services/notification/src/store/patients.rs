//! A patient's erasure, as notification carries it out: every message about
//! the referral loses its address and words (subject, body, webhook
//! document), and one not yet sent is never sent (`failed`, saying why);
//! the row that says a message was planned, when, on which channel and to
//! whom by role stays. Each erasure is kept under its id (`erasures`) with
//! how many messages it emptied, for the board admin's report.
//!
//! It runs in the consumer's transaction with its inbox row: a crash before
//! the commit leaves it to the redelivery, which a commit makes a no-op.

use chrono::{DateTime, Utc};
use pathway_common::db::create_table;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

use super::delivery::{self, Column, Status};

/// Why a message not yet sent never will be.
pub const NOT_SENT: &str = "not sent: the patient's data was erased at their request";

pub mod erasure {
    use sea_orm::entity::prelude::*;

    /// What notification emptied of one referral under one erasure request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "erasures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub erasure_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        /// Messages whose address and words were emptied.
        pub messages: i64,
        /// Of those, messages not yet sent that never will be.
        pub cancelled: i64,
        pub done_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Empty every message about `referral_id` of `board` under `erasure_id`,
/// and keep what went.
pub async fn erase<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
    referral_id: &str,
    board: &str,
    now: DateTime<Utc>,
) -> Result<erasure::Model, DbErr> {
    let cancelled = delivery::Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Failed))
        .col_expr(Column::LastError, Expr::value(Some(NOT_SENT.to_owned())))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::ReferralId.eq(referral_id))
        .filter(Column::Status.is_in([Status::Planned, Status::Sending]))
        .exec(db)
        .await?
        .rows_affected;
    let messages = delivery::Entity::update_many()
        .col_expr(Column::Address, Expr::value(""))
        .col_expr(Column::Subject, Expr::value(""))
        .col_expr(Column::Body, Expr::value(""))
        .col_expr(Column::Document, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?
        .rows_affected;
    let kept = erasure::Model {
        erasure_id: erasure_id.to_owned(),
        referral_id: referral_id.to_owned(),
        board: board.to_owned(),
        messages: <i64 as TryFrom<u64>>::try_from(messages).unwrap_or(i64::MAX),
        cancelled: <i64 as TryFrom<u64>>::try_from(cancelled).unwrap_or(i64::MAX),
        done_at: now,
    };
    erasure::Entity::insert(erasure::ActiveModel {
        erasure_id: Set(kept.erasure_id.clone()),
        referral_id: Set(kept.referral_id.clone()),
        board: Set(kept.board.clone()),
        messages: Set(kept.messages),
        cancelled: Set(kept.cancelled),
        done_at: Set(now),
    })
    .on_conflict_do_nothing_on([erasure::Column::ErasureId, erasure::Column::ReferralId])
    .exec_without_returning(db)
    .await?;
    Ok(kept)
}

/// Every referral erased under `erasure_id`, as notification did it.
pub async fn erased_under<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
) -> Result<Vec<erasure::Model>, DbErr> {
    erasure::Entity::find()
        .filter(erasure::Column::ErasureId.eq(erasure_id))
        .all(db)
        .await
}

/// The `erasures` table.
pub(super) struct ErasureTable;

impl MigrationName for ErasureTable {
    fn name(&self) -> &str {
        "m0006_erasures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ErasureTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, erasure::Entity).await
    }
}
