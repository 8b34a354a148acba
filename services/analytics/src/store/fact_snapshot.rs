//! `fact_snapshots`: one row per snapshot of the facts
//! ([`super::snapshots`]), naming the stream sequence it is complete up to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fact_snapshots")]
pub struct Model {
    /// A UUIDv7: the latest snapshot has the greatest.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Every message of the stream up to this one (inclusive) is in the
    /// snapshot; some after it may be too, each with its inbox row.
    pub stream_sequence: i64,
    /// The Scottish day of a daily snapshot (unique: one a day, whichever
    /// instance takes it first); none for one an operator asked for.
    #[sea_orm(nullable)]
    pub daily_on: Option<String>,
    pub taken_at: DateTimeUtc,
    /// `daily`, or who asked for it.
    pub taken_by: String,
    /// How many facts, and inbox rows, it holds.
    pub facts: i64,
    pub inbox_rows: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
