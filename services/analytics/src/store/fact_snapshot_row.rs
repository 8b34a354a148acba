//! `fact_snapshot_rows`: what a snapshot holds, one row of a live table per
//! row here, as the JSON of its entity ([`super::snapshots`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fact_snapshot_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub snapshot_id: String,
    /// Which table the row comes from ([`super::snapshots::Kind`]).
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// Its place among the rows of its kind.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    #[sea_orm(column_type = "Text")]
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
