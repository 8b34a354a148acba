//! The boards' histories: each pathway change and each settings change,
//! all kept, and what a metrics query needs of them (the calendar and target
//! from the latest settings, the adoption date).

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::calendar::WorkingCalendar;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{pathway_change, settings_change};
use crate::domain::metrics::BoardContext;

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

/// A board's settings document after a change.
pub async fn record_settings_change(
    db: &impl ConnectionTrait,
    event_id: &str,
    board: BoardCode,
    settings_json: &str,
    changed_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    settings_change::Entity::insert(settings_change::ActiveModel {
        event_id: Set(event_id.to_owned()),
        board: Set(board.code().to_owned()),
        settings_json: Set(settings_json.to_owned()),
        changed_at: Set(changed_at),
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

/// Each board's calendar and target from its latest settings, and its
/// adoption date: the earliest date from which its pathway was switched on.
pub async fn contexts(
    db: &impl ConnectionTrait,
    boards: &[BoardCode],
) -> anyhow::Result<BTreeMap<BoardCode, BoardContext>> {
    let mut out = BTreeMap::new();
    for board in boards {
        let settings = settings_change::Entity::find()
            .filter(settings_change::Column::Board.eq(board.code()))
            .order_by_desc(settings_change::Column::ChangedAt)
            .one(db)
            .await
            .context("cannot load a board's settings")?
            .map(|row| serde_json::from_str::<BoardSettings>(&row.settings_json))
            .transpose()
            .with_context(|| format!("the settings kept for {board} do not read"))?
            .unwrap_or_default();
        let adopted_on = pathway_change::Entity::find()
            .filter(pathway_change::Column::Board.eq(board.code()))
            .filter(pathway_change::Column::Enabled.eq(true))
            .order_by_asc(pathway_change::Column::EffectiveDate)
            .one(db)
            .await
            .context("cannot load a board's pathway changes")?
            .map(|row| row.effective_date);
        out.insert(
            *board,
            BoardContext {
                calendar: WorkingCalendar::new(
                    settings.scottish_bank_holidays,
                    &settings.extra_holidays,
                ),
                vetting_target_working_days: settings.vetting_target_working_days,
                adopted_on,
            },
        );
    }
    Ok(out)
}
