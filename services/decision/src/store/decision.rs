//! The `decisions` table: one row per decision. Rows are inserted, never
//! updated or deleted: a correction is a new row that names the one it
//! supersedes.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub referral_id: String,
    pub board: String,
    /// 1 for the referral's first decision, then one more each time;
    /// unique per referral, so two racing decisions cannot both land.
    pub sequence: i32,
    pub supersedes_decision_id: Option<String>,
    /// The `vetting.completed` event this decision came from.
    pub vetting_event_id: String,
    /// Outcome code, e.g. `accept`.
    pub outcome: String,
    pub priority: Option<String>,
    pub mode: Option<String>,
    pub partner: Option<String>,
    pub rejection_reason: Option<String>,
    /// The clinicians' free text of decisions recorded before it left the
    /// stream (`docs/decisions/0024`); empty for later ones, whose text is
    /// vetting's, under the `*_text_id` columns.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub advice: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub red_flag_override_reason: Option<String>,
    /// Ids of the texts vetting keeps (clinical_text.proto), as
    /// `vetting.completed` carried them.
    pub reason_text_id: Option<String>,
    pub advice_text_id: Option<String>,
    pub rationale_text_id: Option<String>,
    pub red_flag_override_reason_text_id: Option<String>,
    pub clinician: String,
    pub decided_at: DateTimeUtc,
    pub target_date: Option<Date>,
    pub opt_in_deadline: Option<DateTimeUtc>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A referral's decisions, first to last.
pub async fn of_referral<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ReferralId.eq(referral_id))
        .order_by_asc(Column::Sequence)
        .all(db)
        .await
}

pub async fn insert<C: ConnectionTrait>(db: &C, row: Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel::from(row)).exec(db).await?;
    Ok(())
}
