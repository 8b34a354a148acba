//! A patient's requests about their data, as vetting carries them out: an
//! erasure removes the clinicians' words about the referral (its texts, the
//! questions kept with its information requests and the outcomes recorded
//! with them) and takes it off the worklist for good;
//! a restriction holds it off the worklist until lifted. Each erasure is
//! kept under its id (`pathway_common::erasure`), with what went, for the
//! board admin's report. The migration adds the worklist's `held`.
//!
//! Both run in the consumer's transaction with its inbox row: a crash
//! before the commit leaves everything to the redelivery; a redelivery
//! after it finds the inbox row and does nothing twice.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use pathway_common::erasure;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

use super::{clinical_text, information_request, outcome, worklist};

/// Why a worklist row is held off the worklist.
pub const HELD_ERASED: &str = "erased";
pub const HELD_RESTRICTED: &str = "restricted";

/// Erase what vetting holds of `referral_id` of `board` under `erasure_id`,
/// and keep what went (`pathway_common::erasure`).
pub async fn erase<C: ConnectionTrait>(
    db: &C,
    erasure_id: &str,
    referral_id: &str,
    board: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
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
    let removed = BTreeMap::from([
        ("clinical_texts".to_owned(), clinical_texts),
        ("outcomes".to_owned(), outcomes),
        ("worklist_entries_held".to_owned(), u64::from(on_worklist)),
    ]);
    erasure::record(db, erasure_id, referral_id, board, &removed, now).await
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

/// The worklist's `held`.
pub(super) struct PatientRequestTables;

impl MigrationName for PatientRequestTables {
    fn name(&self) -> &str {
        "m0006_patient_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PatientRequestTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
