//! `opt_in_invitations`: one row per `patient_opt_in` decision whose link
//! and short code intake gave out, with the referral it belongs to, when
//! its window closes, the hash of its short code and when the patient used
//! it; and the migration that adds the table.

use chrono::{DateTime, Utc};
use pathway_common::db::{create_index, create_table};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use sea_orm_migration::prelude::*;

pub mod invitation {
    use sea_orm::entity::prelude::*;

    /// An invitation to opt in. No patient identifier: the referral holds
    /// those, and the short code is kept only as its hash.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opt_in_invitations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        pub referral_id: String,
        pub board: String,
        /// When the window closes, as the decision set it.
        pub closes_at: DateTimeUtc,
        /// SHA-256 of the short code, in hex.
        #[sea_orm(unique)]
        pub code_hash: String,
        pub issued_at: DateTimeUtc,
        /// When the patient opted in: set once, never cleared.
        pub redeemed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The invitation of `decision_id`, if one was given out.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find_by_id(decision_id.to_owned())
        .one(db)
        .await
}

/// The invitation whose short code hashes to `code_hash`.
pub async fn find_by_code<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(code_hash))
        .one(db)
        .await
}

/// The invitation of `referral_id` given out last (a correcting decision
/// comes after the one it corrects).
pub async fn latest_for_referral<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    use sea_orm::QueryOrder;
    invitation::Entity::find()
        .filter(invitation::Column::ReferralId.eq(referral_id))
        .order_by_desc(invitation::Column::IssuedAt)
        .order_by_desc(invitation::Column::DecisionId)
        .one(db)
        .await
}

/// Keep `row`.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    row: invitation::Model,
) -> Result<invitation::Model, DbErr> {
    invitation::ActiveModel {
        decision_id: Set(row.decision_id),
        referral_id: Set(row.referral_id),
        board: Set(row.board),
        closes_at: Set(row.closes_at),
        code_hash: Set(row.code_hash),
        issued_at: Set(row.issued_at),
        redeemed_at: Set(row.redeemed_at),
    }
    .insert(db)
    .await
}

/// Mark `decision_id` used at `now`, unless it already was: true when this
/// call marked it. The condition is in the update, so of two patients'
/// clicks racing, one wins.
pub async fn redeem<C: ConnectionTrait>(
    db: &C,
    decision_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::RedeemedAt, Expr::value(Some(now)))
        .filter(invitation::Column::DecisionId.eq(decision_id))
        .filter(invitation::Column::RedeemedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// `m0006_opt_in_invitations`: the invitations table.
pub struct OptInTables;

impl MigrationName for OptInTables {
    fn name(&self) -> &str {
        "m0006_opt_in_invitations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OptInTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, invitation::Entity).await?;
        create_index(
            manager,
            "opt_in_invitations",
            "opt_in_invitations_referral",
            &["referral_id"],
            false,
        )
        .await
    }
}
