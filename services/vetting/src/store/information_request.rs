//! Questions clinicians asked referrers. The text stays here (it may hold
//! identifiers), encrypted at rest under the board's data key
//! ([`super::encrypted`]): rows read from here hold it sealed, and
//! [`Model::question`] opens it; the answer is intake's and is read from it.

use chrono::{DateTime, Utc};
use pathway_common::crypto::{CryptoError, FieldCipher};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};

use crate::domain::wait::Pause;

pub use entity::{ActiveModel, Column, Entity, Model};

use super::encrypted;

/// Where a question is stored.
const PLACE: (&str, &str) = (encrypted::INFORMATION_REQUESTS, encrypted::QUESTION);

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "information_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        /// The referral's board, whose data key seals the question (a row
        /// kept before the column existed took its worklist row's).
        pub board: String,
        /// Encrypted at rest: [`super::Model::question`] opens it.
        #[sea_orm(column_type = "Text")]
        pub question: String,
        pub requested_by: String,
        pub requested_by_name: Option<String>,
        pub requested_at: DateTimeUtc,
        /// When the referrer's answer arrived; the clock is paused until then.
        pub answered_at: Option<DateTimeUtc>,
        /// When the request was found unanswered past the board's
        /// `information_request_reminder_working_days` and
        /// `vetting.info_request_overdue` was written: set once, never cleared.
        pub overdue_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl Model {
    /// The question, in the clear.
    pub fn question(&self, cipher: &FieldCipher) -> Result<String, CryptoError> {
        encrypted::open(cipher, PLACE, &self.id, &self.question)
    }

    /// The paused days, on Scottish days.
    pub fn pause(&self) -> Pause {
        Pause::between(self.requested_at, self.answered_at)
    }
}

/// A new question.
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub referral_id: &'a str,
    pub board: &'a str,
    pub question: &'a str,
    pub requested_by: &'a str,
    pub requested_by_name: Option<&'a str>,
    pub requested_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    new: NewRequest<'_>,
) -> Result<(), DbErr> {
    let question = encrypted::seal(cipher, new.board, PLACE, new.id, new.question)?;
    Entity::insert(ActiveModel {
        id: Set(new.id.to_owned()),
        referral_id: Set(new.referral_id.to_owned()),
        board: Set(new.board.to_owned()),
        question: Set(question),
        requested_by: Set(new.requested_by.to_owned()),
        requested_by_name: Set(new.requested_by_name.map(str::to_owned)),
        requested_at: Set(new.requested_at),
        answered_at: Set(None),
        overdue_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The questions about these referrals, oldest first, as stored.
pub async fn of_referrals<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> Result<Vec<Model>, DbErr> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut out = Vec::new();
    // Bounded IN lists keep every database happy.
    for chunk in ids.chunks(500) {
        out.extend(
            Entity::find()
                .filter(Column::ReferralId.is_in(chunk.to_vec()))
                .order_by_asc(Column::RequestedAt)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// The questions about these referrals still unanswered and not yet found
/// overdue, oldest first.
pub async fn awaiting_answer<C: ConnectionTrait>(
    db: &C,
    referral_ids: impl IntoIterator<Item = String>,
) -> Result<Vec<Model>, DbErr> {
    Ok(of_referrals(db, referral_ids)
        .await?
        .into_iter()
        .filter(|r| r.answered_at.is_none() && r.overdue_at.is_none())
        .collect())
}

/// Mark question `id` overdue at `at`, unless it was answered or marked
/// meanwhile: answers whether this call marked it, so that of two sweeps at
/// the same instant only one writes the event.
pub async fn mark_overdue<C: ConnectionTrait>(
    db: &C,
    id: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = Entity::update_many()
        .col_expr(Column::OverdueAt, Expr::value(Some(at)))
        .filter(Column::Id.eq(id))
        .filter(Column::AnsweredAt.is_null())
        .filter(Column::OverdueAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The referrer answered question `id` at `at` (the first answer counts).
pub async fn mark_answered<C: ConnectionTrait>(
    db: &C,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if let Some(request) = Entity::find_by_id(id.to_owned()).one(db).await?
        && request.answered_at.is_none()
    {
        let mut active: ActiveModel = request.into();
        active.answered_at = Set(Some(at));
        active.update(db).await?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/information_request.rs"]
mod tests;
