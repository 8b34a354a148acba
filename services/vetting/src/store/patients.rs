//! A patient's requests about their data, as vetting carries them out: an
//! erasure removes the clinicians' words about the referral (its texts, the
//! questions kept with its information requests and the outcomes recorded
//! with them) and takes it off the worklist for good;
//! a restriction holds it off the worklist until lifted. Each erasure is
//! kept under its id (`erasures`), with what went, for the board admin's
//! report. The migration adds that table and the worklist's `held`.
//!
//! Both run in the consumer's transaction with its inbox row: a crash
//! before the commit leaves everything to the redelivery; a redelivery
//! after it finds the inbox row and does nothing twice.

use chrono::{DateTime, Utc};
use pathway_common::db::create_table;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

use super::{clinical_text, information_request, outcome, worklist};

/// Why a worklist row is held off the worklist.
pub const HELD_ERASED: &str = "erased";
pub const HELD_RESTRICTED: &str = "restricted";

pub mod erasure {
    use sea_orm::entity::prelude::*;

    /// What vetting removed of one referral under one erasure request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "erasures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub erasure_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        pub clinical_texts: i64,
        pub outcomes: i64,
        /// Whether the referral was on the worklist (and is now held off it).
        pub on_worklist: bool,
        pub done_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Erase what vetting holds of `referral_id` of `board` under `erasure_id`,
/// and keep what went.
pub async fn erase<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
    referral_id: &str,
    board: &str,
    now: DateTime<Utc>,
) -> Result<erasure::Model, DbErr> {
    let clinical_texts = clinical_text::Entity::delete_many()
        .filter(clinical_text::Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?
        .rows_affected;
    let questions = information_request::Entity::update_many()
        .col_expr(information_request::Column::Question, Expr::value(""))
        .filter(information_request::Column::ReferralId.eq(referral_id))
        .filter(information_request::Column::Question.ne(""))
        .exec(db)
        .await?
        .rows_affected;
    let clinical_texts = clinical_texts + questions;
    let outcomes = outcome::Entity::delete_many()
        .filter(outcome::Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?
        .rows_affected;
    let on_worklist = hold(db, referral_id, Some(HELD_ERASED), now).await?;
    let kept = erasure::Model {
        erasure_id: erasure_id.to_owned(),
        referral_id: referral_id.to_owned(),
        board: board.to_owned(),
        clinical_texts: <i64 as TryFrom<u64>>::try_from(clinical_texts).unwrap_or(i64::MAX),
        outcomes: <i64 as TryFrom<u64>>::try_from(outcomes).unwrap_or(i64::MAX),
        on_worklist,
        done_at: now,
    };
    erasure::Entity::insert(erasure::ActiveModel {
        erasure_id: Set(kept.erasure_id.clone()),
        referral_id: Set(kept.referral_id.clone()),
        board: Set(kept.board.clone()),
        clinical_texts: Set(kept.clinical_texts),
        outcomes: Set(kept.outcomes),
        on_worklist: Set(kept.on_worklist),
        done_at: Set(now),
    })
    .on_conflict_do_nothing_on([erasure::Column::ErasureId, erasure::Column::ReferralId])
    .exec_without_returning(db)
    .await?;
    Ok(kept)
}

/// Hold `referral_id` off the worklist for `why` (or let it back with
/// `None`), dropping any claim; whether the referral is on the worklist. An
/// erased referral never comes back.
pub async fn hold<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
    why: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use worklist::Column;
    let Some(row) = worklist::find(db, referral_id).await? else {
        return Ok(false);
    };
    if row.held.as_deref() == Some(HELD_ERASED) {
        return Ok(true);
    }
    let mut update = worklist::Entity::update_many()
        .col_expr(Column::Held, Expr::value(why.map(str::to_owned)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::ReferralId.eq(referral_id));
    if why.is_some() {
        // A clinician's claim ends with the hold; the referral goes back
        // to awaiting vetting if it was being vetted.
        update = update
            .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(Column::ClaimedByName, Expr::value(Option::<String>::None))
            .col_expr(
                Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        if row.status == worklist::StoredStatus::InVetting {
            update = update.col_expr(
                Column::Status,
                Expr::value(worklist::StoredStatus::AwaitingVetting),
            );
        }
    }
    update.exec(db).await?;
    Ok(true)
}

/// Every referral erased under `erasure_id`, as vetting did it.
pub async fn erased_under<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
) -> Result<Vec<erasure::Model>, DbErr> {
    erasure::Entity::find()
        .filter(erasure::Column::ErasureId.eq(erasure_id))
        .all(db)
        .await
}

/// The `erasures` table and the worklist's `held`.
pub(super) struct PatientRequestTables;

impl MigrationName for PatientRequestTables {
    fn name(&self) -> &str {
        "m0006_patient_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PatientRequestTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, erasure::Entity).await?;
        // `m0002_vetting` creates the worklist from today's entity.
        if !manager.has_column("worklist", "held").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("worklist"))
                        .add_column(ColumnDef::new(Alias::new("held")).string().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
