//! The `dead_letters` table: what a consumer set aside, with the payload and
//! the reason, to be listed and replayed; and [`set_aside`], the one way a
//! row gets there.

use chrono::Utc;
use pathway_proto::stream;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::entity as inbox;
use crate::db::is_unique_violation;
use crate::outbox;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
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

/// A message a consumer sets aside, and why.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    pub consumer: &'a str,
    /// The event id, or `stream-seq-<n>` when there is none.
    pub message_id: &'a str,
    pub subject: &'a str,
    pub payload: &'a [u8],
    pub reason: &'a str,
    pub deliveries: i64,
}

/// Set `letter` aside in one transaction: the consumer's inbox row (so it
/// happens once, and a message already handled is never set aside), the
/// `dead_letters` row, and its copy on the dead-letter stream through the
/// outbox (so the stream's count always equals the rows). Answers the new
/// row's id, or `None` when the consumer had handled or set aside this
/// message already.
pub async fn set_aside(
    db: &DatabaseConnection,
    letter: Letter<'_>,
) -> Result<Option<String>, DbErr> {
    let txn = db.begin().await?;
    let seen = inbox::ActiveModel {
        consumer: Set(letter.consumer.to_owned()),
        event_id: Set(letter.message_id.to_owned()),
        subject: Set(letter.subject.to_owned()),
        handled_at: Set(Utc::now()),
    };
    if let Err(error) = inbox::Entity::insert(seen).exec(&txn).await {
        txn.rollback().await.ok();
        if is_unique_violation(&error) {
            return Ok(None);
        }
        return Err(error);
    }
    let id = uuid::Uuid::now_v7().to_string();
    Entity::insert(ActiveModel {
        id: Set(id.clone()),
        consumer: Set(letter.consumer.to_owned()),
        message_id: Set(letter.message_id.to_owned()),
        subject: Set(letter.subject.to_owned()),
        payload: Set(letter.payload.to_vec()),
        reason: Set(letter.reason.to_owned()),
        deliveries: Set(letter.deliveries),
        dead_at: Set(Utc::now()),
        replayed_at: Set(None),
    })
    .exec(&txn)
    .await?;
    let mut headers = serde_json::Map::new();
    headers.insert(
        "Pathway-Dead-Letter-Reason".into(),
        header_value(letter.reason, 1024).into(),
    );
    headers.insert(
        "Pathway-Original-Subject".into(),
        letter.subject.to_owned().into(),
    );
    headers.insert("Pathway-Consumer".into(), letter.consumer.to_owned().into());
    outbox::enqueue_raw(
        &txn,
        &format!("dead-letter-{id}"),
        &stream::dead_letter_subject(letter.consumer),
        letter.payload.to_vec(),
        headers,
    )
    .await?;
    txn.commit().await?;
    Ok(Some(id))
}

/// `text` on one line (header values cannot hold line breaks), at most
/// `max` bytes.
pub(crate) fn header_value(text: &str, max: usize) -> String {
    let text = &text.replace(['\r', '\n'], " ");
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
