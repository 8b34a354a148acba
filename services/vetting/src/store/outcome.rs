//! The outcomes clinicians recorded, as sent in `vetting.completed`. Never
//! updated: a correction is another row. The body (which holds the advice,
//! reason and rationale) and the red-flag override reason are encrypted at
//! rest under the board's data key ([`super::encrypted`]): sealed here on
//! the way in, opened here on the way out.

use chrono::{DateTime, Utc};
use pathway_common::crypto::FieldCipher;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

pub use entity::{ActiveModel, Column, Entity, Model};

use super::encrypted::{self, BODY, OUTCOMES, RED_FLAG_OVERRIDE_REASON};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outcomes")]
    pub struct Model {
        /// The `vetting.completed` event id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub board: String,
        pub clinician: String,
        pub clinician_name: Option<String>,
        /// The outcome request as JSON (see `domain::outcome::OutcomeRequest`).
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub red_flag_override_reason: Option<String>,
        pub correction: bool,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An outcome to record.
pub struct NewOutcome<'a> {
    pub event_id: &'a str,
    pub referral_id: &'a str,
    pub board: &'a str,
    pub clinician: &'a str,
    pub clinician_name: Option<&'a str>,
    pub body: String,
    pub red_flag_override_reason: Option<&'a str>,
    pub correction: bool,
    pub recorded_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    new: NewOutcome<'_>,
) -> Result<(), DbErr> {
    let id = new.event_id;
    let body = encrypted::seal(cipher, new.board, (OUTCOMES, BODY), id, &new.body)?;
    let reason = new
        .red_flag_override_reason
        .map(|r| {
            encrypted::seal(
                cipher,
                new.board,
                (OUTCOMES, RED_FLAG_OVERRIDE_REASON),
                id,
                r,
            )
        })
        .transpose()?;
    Entity::insert(ActiveModel {
        id: Set(new.event_id.to_owned()),
        referral_id: Set(new.referral_id.to_owned()),
        board: Set(new.board.to_owned()),
        clinician: Set(new.clinician.to_owned()),
        clinician_name: Set(new.clinician_name.map(str::to_owned)),
        body: Set(body),
        red_flag_override_reason: Set(reason),
        correction: Set(new.correction),
        recorded_at: Set(new.recorded_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// `row` in the clear.
fn open(cipher: &FieldCipher, mut row: Model) -> Result<Model, DbErr> {
    row.body = encrypted::open(cipher, (OUTCOMES, BODY), &row.id, &row.body)?;
    if let Some(reason) = &row.red_flag_override_reason {
        row.red_flag_override_reason = Some(encrypted::open(
            cipher,
            (OUTCOMES, RED_FLAG_OVERRIDE_REASON),
            &row.id,
            reason,
        )?);
    }
    Ok(row)
}

/// A referral's outcomes, oldest first, in the clear.
pub async fn of_referral<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    referral_id: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ReferralId.eq(referral_id))
        .order_by_asc(Column::RecordedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|row| open(cipher, row))
        .collect()
}

/// The latest outcome recorded for a referral, in the clear.
pub async fn last<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    referral_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ReferralId.eq(referral_id))
        .order_by_desc(Column::RecordedAt)
        .order_by_desc(Column::Id)
        .one(db)
        .await?
        .map(|row| open(cipher, row))
        .transpose()
}
