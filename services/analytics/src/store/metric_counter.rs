//! `metric_counters`: the metrics' aggregates, one counter per split,
//! board, Scottish day, group and kind ([`crate::domain::aggregates`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_counters")]
pub struct Model {
    /// The split it counts by (`adoption` also serves a query without one).
    #[sea_orm(primary_key, auto_increment = false)]
    pub dimension: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub board: String,
    /// `YYYY-MM-DD`, a Scottish day; empty for the counter of facts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_name: String,
    /// [`crate::domain::aggregates::Counter::name`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub counter: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
