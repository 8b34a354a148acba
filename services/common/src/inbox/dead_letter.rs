//! The `dead_letters` table: what a consumer set aside, with the payload and
//! the reason, to be listed and replayed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub consumer: String,
    /// The event id when the message could be decoded, else the stream sequence.
    pub message_id: String,
    pub subject: String,
    pub payload: Vec<u8>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub deliveries: i64,
    pub dead_at: DateTimeUtc,
    pub replayed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
