//! `daily_summaries`: each board's summary of a Scottish day, once sent
//! (table and migration); and what the daily summary reads: the board's
//! settings in force on a day, and the facts that can count on it.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::days;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, QueryOrder};
use sea_orm_migration::prelude::{MigrationName, MigrationTrait, SchemaManager, async_trait};

use super::{fact, facts, settings_change};
use crate::domain::baseline;
use crate::domain::fact::Fact;

/// A board's summary of one Scottish day, published: the row and the
/// outbox's event commit together, and a second (on this instance or
/// another) finds the row, or fails on its key and publishes nothing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_summaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub board: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The `analytics.daily_summary` event that carried it.
    pub event_id: String,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Creates the table.
pub struct DailySummaries;

impl MigrationName for DailySummaries {
    fn name(&self) -> &str {
        "m0011_daily_summaries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DailySummaries {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        pathway_common::db::create_table(manager, Entity).await
    }
}

/// Whether `board`'s summary of `day` was published.
pub async fn published(
    db: &impl ConnectionTrait,
    board: BoardCode,
    day: NaiveDate,
) -> anyhow::Result<bool> {
    Ok(Entity::find_by_id((board.code().to_owned(), day))
        .one(db)
        .await
        .context("cannot read the daily summaries")?
        .is_some())
}

/// Mark `board`'s summary of `day` published by `event_id`, in the caller's
/// transaction; `false` when another got there first (the key is taken).
pub async fn mark(
    db: &impl ConnectionTrait,
    board: BoardCode,
    day: NaiveDate,
    event_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let row = ActiveModel {
        board: sea_orm::ActiveValue::Set(board.code().to_owned()),
        day: sea_orm::ActiveValue::Set(day),
        event_id: sea_orm::ActiveValue::Set(event_id.to_owned()),
        published_at: sea_orm::ActiveValue::Set(now),
    };
    match Entity::insert(row).exec(db).await {
        Ok(_) => Ok(true),
        Err(error) if pathway_common::db::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(anyhow::Error::new(error).context("cannot mark a daily summary")),
    }
}

/// `board`'s settings document in force on `day`: of the changes in force
/// by then (from their effective day, or the day they were saved), the one
/// from the latest day, and of two from one day the one saved later; the
/// defaults before any.
pub async fn settings_on(
    db: &impl ConnectionTrait,
    board: BoardCode,
    day: NaiveDate,
) -> anyhow::Result<BoardSettings> {
    let changes = settings_change::Entity::find()
        .filter(settings_change::Column::Board.eq(board.code()))
        .order_by_asc(settings_change::Column::ChangedAt)
        .order_by_asc(settings_change::Column::EventId)
        .all(db)
        .await
        .context("cannot load a board's settings")?;
    let in_force = changes
        .iter()
        .map(|row| {
            let from = row
                .effective_date
                .unwrap_or_else(|| days::day_of(row.changed_at));
            (from, row)
        })
        .filter(|(from, _)| *from <= day)
        // Stable: of equal days, the last saved is the last kept.
        .max_by_key(|(from, _)| *from);
    let latest_of_day = in_force.and_then(|(from, _)| {
        changes.iter().rev().find(|row| {
            row.effective_date
                .unwrap_or_else(|| days::day_of(row.changed_at))
                == from
        })
    });
    match latest_of_day {
        Some(row) => serde_json::from_str(&row.settings_json)
            .with_context(|| format!("the settings kept for {board} do not read")),
        None => Ok(BoardSettings::default()),
    }
}

/// The facts of `board` that can count on the Scottish day ending at `end`:
/// received by then, and neither withdrawn nor closed before the day
/// began, nor decided before it unless waiting on the patient to opt in.
/// Baseline facts (from before adoption, imported) never count.
pub async fn facts_for_day(
    db: &impl ConnectionTrait,
    board: BoardCode,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> anyhow::Result<Vec<Fact>> {
    use fact::Column as C;
    let rows = fact::Entity::find()
        .filter(C::Board.eq(board.code()))
        .filter(C::ReceivedAt.lt(end))
        .filter(C::ReferralId.not_like(format!("{}%", baseline::PREFIX)))
        .filter(
            Condition::any()
                .add(C::WithdrawnAt.is_null())
                .add(C::WithdrawnAt.gte(start)),
        )
        .filter(
            Condition::any()
                .add(C::ClosedAt.is_null())
                .add(C::ClosedAt.gte(start)),
        )
        .filter(
            Condition::any()
                .add(C::DecidedAt.is_null())
                .add(C::DecidedAt.gte(start))
                .add(C::Outcome.eq("patient_opt_in")),
        )
        .all(db)
        .await
        .context("cannot load the facts of a day")?;
    rows.iter().map(facts::from_row).collect()
}
