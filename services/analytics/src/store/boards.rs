//! The boards' histories: each pathway change and each settings change,
//! all kept, and what a metrics query needs of them (the settings in force
//! on each Scottish day, the adoption date).

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::days;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{pathway_change, settings_change};
use crate::domain::metrics::{BoardContext, SettingsVersion};

/// A board's pathway switched on or off from `effective_date`.
pub async fn record_pathway_change(
    db: &impl ConnectionTrait,
    event_id: &str,
    board: BoardCode,
    enabled: bool,
    effective_date: NaiveDate,
    changed_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    pathway_change::Entity::insert(pathway_change::ActiveModel {
        event_id: Set(event_id.to_owned()),
        board: Set(board.code().to_owned()),
        enabled: Set(enabled),
        effective_date: Set(effective_date),
        changed_at: Set(changed_at),
    })
    .exec(db)
    .await
    .context("cannot record a pathway change")?;
    Ok(())
}

/// The Scottish day a `board.settings_changed` is in force from, as its
/// `effective_date` gives it: `None` when it gives none (an event from
/// before the field: in force from when it was saved).
pub fn settings_effective_date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| format!("effective_date {text:?} is not a date: {e}"))
}

/// A board's settings document after a change, in force from
/// `effective_date` (or, when `None`, from the day it was saved).
pub async fn record_settings_change(
    db: &impl ConnectionTrait,
    event_id: &str,
    board: BoardCode,
    settings_json: &str,
    changed_at: DateTime<Utc>,
    effective_date: Option<NaiveDate>,
) -> anyhow::Result<()> {
    settings_change::Entity::insert(settings_change::ActiveModel {
        event_id: Set(event_id.to_owned()),
        board: Set(board.code().to_owned()),
        settings_json: Set(settings_json.to_owned()),
        changed_at: Set(changed_at),
        effective_date: Set(effective_date),
    })
    .exec(db)
    .await
    .context("cannot record a settings change")?;
    Ok(())
}

/// Forget every board's history (a rebuild reads it again from the stream).
pub async fn clear(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    pathway_change::Entity::delete_many()
        .exec(db)
        .await
        .context("cannot delete the pathway changes")?;
    settings_change::Entity::delete_many()
        .exec(db)
        .await
        .context("cannot delete the settings changes")?;
    Ok(())
}

/// Each board's settings history (each change in force from its Scottish
/// effective day, the defaults before the first) and its adoption date: the
/// earliest date from which its pathway was switched on.
pub async fn contexts(
    db: &impl ConnectionTrait,
    boards: &[BoardCode],
) -> anyhow::Result<BTreeMap<BoardCode, BoardContext>> {
    let mut out = BTreeMap::new();
    for board in boards {
        let adopted_on = pathway_change::Entity::find()
            .filter(pathway_change::Column::Board.eq(board.code()))
            .filter(pathway_change::Column::Enabled.eq(true))
            .order_by_asc(pathway_change::Column::EffectiveDate)
            .one(db)
            .await
            .context("cannot load a board's pathway changes")?
            .map(|row| row.effective_date);
        let mut context = BoardContext::new(adopted_on);
        // In the order saved, so that of two changes from one day the later
        // wins.
        let changes = settings_change::Entity::find()
            .filter(settings_change::Column::Board.eq(board.code()))
            .order_by_asc(settings_change::Column::ChangedAt)
            .order_by_asc(settings_change::Column::EventId)
            .all(db)
            .await
            .context("cannot load a board's settings")?;
        for row in changes {
            let settings = serde_json::from_str::<BoardSettings>(&row.settings_json)
                .with_context(|| format!("the settings kept for {board} do not read"))?;
            let from = row
                .effective_date
                .unwrap_or_else(|| days::day_of(row.changed_at));
            context.change_from(from, SettingsVersion::of(&settings));
        }
        out.insert(*board, context);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "tests/boards.rs"]
mod tests;
