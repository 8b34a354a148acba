//! Clinicians' free text, each piece under the id events carry instead of it
//! (questions, advice, reasons, rationale, red-flag override reasons). Written
//! in the transaction that records the question or the outcome; read by other
//! services only through `crate::rpc`, each read audited. Never updated.
//! The text is encrypted at rest under the board's data key, bound to its
//! row ([`super::encrypted`]); it is sealed here on the way in and opened
//! here on the way out, so nothing else sees it stored.

use chrono::{DateTime, Utc};
use pathway_common::crypto::FieldCipher;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub use entity::{ActiveModel, Column, Entity, Model};

use super::encrypted;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clinical_texts")]
    pub struct Model {
        /// The id events carry (UUIDv7; a question's is its information
        /// request's id).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub board: String,
        /// `question`, `advice`, `reason`, `rationale` or
        /// `red_flag_override_reason` ([`super::Kind`]).
        pub kind: String,
        /// Encrypted at rest; in the clear in a model [`super::by_ids`]
        /// gives.
        #[sea_orm(column_type = "Text")]
        pub text: String,
        /// The clinician who wrote it.
        pub written_by: String,
        pub written_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Question,
    Advice,
    Reason,
    Rationale,
    RedFlagOverrideReason,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Question => "question",
            Self::Advice => "advice",
            Self::Reason => "reason",
            Self::Rationale => "rationale",
            Self::RedFlagOverrideReason => "red_flag_override_reason",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::Question,
            Self::Advice,
            Self::Reason,
            Self::Rationale,
            Self::RedFlagOverrideReason,
        ]
        .into_iter()
        .find(|k| k.as_str() == code)
    }
}

/// Texts of one referral written at one moment by one clinician.
pub struct Writer<'a> {
    pub cipher: &'a FieldCipher,
    pub referral_id: &'a str,
    pub board: &'a str,
    pub written_by: &'a str,
    pub written_at: DateTime<Utc>,
}

impl Writer<'_> {
    /// Keep `text` as `kind` under `id`.
    pub async fn insert_as<C: ConnectionTrait>(
        &self,
        db: &C,
        id: &str,
        kind: Kind,
        text: &str,
    ) -> Result<(), DbErr> {
        let text = encrypted::seal(self.cipher, self.board, PLACE, id, text)?;
        Entity::insert(ActiveModel {
            id: Set(id.to_owned()),
            referral_id: Set(self.referral_id.to_owned()),
            board: Set(self.board.to_owned()),
            kind: Set(kind.as_str().to_owned()),
            text: Set(text),
            written_by: Set(self.written_by.to_owned()),
            written_at: Set(self.written_at),
        })
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// Keep `text` as `kind` under a new id, and give the id; `None` (and
    /// nothing kept) for no text or a blank one, which events carry as an
    /// empty id.
    pub async fn insert<C: ConnectionTrait>(
        &self,
        db: &C,
        kind: Kind,
        text: Option<&str>,
    ) -> Result<Option<String>, DbErr> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let id = uuid::Uuid::now_v7().to_string();
        self.insert_as(db, &id, kind, text).await?;
        Ok(Some(id))
    }
}

/// Where a text is stored.
const PLACE: (&str, &str) = (encrypted::CLINICAL_TEXTS, encrypted::TEXT);

/// The texts with these ids that are kept here, in the clear.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    ids: &[String],
) -> Result<Vec<Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|mut row| {
            row.text = encrypted::open(cipher, PLACE, &row.id, &row.text)?;
            Ok(row)
        })
        .collect()
}

#[cfg(test)]
#[path = "tests/clinical_text.rs"]
mod tests;
