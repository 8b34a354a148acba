//! The boards' histories: each pathway change and each settings change,
//! all kept, and what a metrics query needs of them (the settings in force
//! on each Scottish day, the adoption date).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::days;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};

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

/// What a board's history holds, in brief: how many changes of each kind
/// and the greatest event id among them. The history only grows (and a
/// rebuild reads it again in the stream's order), so a context worked out
/// under the same stamp is still the board's.
type Stamp = (i64, Option<String>, i64, Option<String>);

async fn stamp(db: &impl ConnectionTrait, board: BoardCode) -> anyhow::Result<Stamp> {
    let backend = db.get_database_backend();
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let sql = format!(
        "SELECT \
         (SELECT COUNT(*) FROM board_settings_changes WHERE board = {}) AS settings, \
         (SELECT MAX(event_id) FROM board_settings_changes WHERE board = {}) AS last_settings, \
         (SELECT COUNT(*) FROM board_pathway_changes WHERE board = {}) AS pathway, \
         (SELECT MAX(event_id) FROM board_pathway_changes WHERE board = {}) AS last_pathway",
        p(1),
        p(2),
        p(3),
        p(4)
    );
    let code = board.code();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [code.into(), code.into(), code.into(), code.into()],
        ))
        .await
        .context("cannot read a board's history")?
        .context("no answer on a board's history")?;
    Ok((
        row.try_get("", "settings")
            .context("cannot read a board's history")?,
        row.try_get("", "last_settings")
            .context("cannot read a board's history")?,
        row.try_get("", "pathway")
            .context("cannot read a board's history")?,
        row.try_get("", "last_pathway")
            .context("cannot read a board's history")?,
    ))
}

/// Each board's context as [`contexts`] works it out, kept between events
/// (a fact's counters need its board's, and working it out reads and parses
/// every settings document the board has had); checked against the board's
/// history with one small query each time.
#[derive(Debug, Default)]
pub struct ContextCache(Mutex<HashMap<BoardCode, (Stamp, BoardContext)>>);

impl ContextCache {
    /// `board`'s context, as [`contexts`] would answer it in `db` now.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        board: BoardCode,
    ) -> anyhow::Result<BoardContext> {
        let now = stamp(db, board).await?;
        if let Ok(kept) = self.0.lock()
            && let Some((at, context)) = kept.get(&board)
            && *at == now
        {
            return Ok(context.clone());
        }
        let context = contexts(db, &[board])
            .await?
            .remove(&board)
            .unwrap_or_default();
        if let Ok(mut kept) = self.0.lock() {
            kept.insert(board, (now, context.clone()));
        }
        Ok(context)
    }

    /// Each of `boards`' contexts, as [`contexts`] would answer them in
    /// `db` now, their histories checked in two queries for them all.
    pub async fn get_many(
        &self,
        db: &impl ConnectionTrait,
        boards: &[BoardCode],
    ) -> anyhow::Result<BTreeMap<BoardCode, BoardContext>> {
        let stamps = stamps(db, boards).await?;
        let mut out = BTreeMap::new();
        let mut stale = Vec::new();
        if let Ok(kept) = self.0.lock() {
            for board in boards {
                match kept.get(board) {
                    Some((at, context)) if stamps.get(board) == Some(at) => {
                        out.insert(*board, context.clone());
                    }
                    _ => stale.push(*board),
                }
            }
        } else {
            stale.extend_from_slice(boards);
        }
        if stale.is_empty() {
            return Ok(out);
        }
        let fresh = contexts(db, &stale).await?;
        if let Ok(mut kept) = self.0.lock() {
            for (board, context) in &fresh {
                if let Some(at) = stamps.get(board) {
                    kept.insert(*board, (at.clone(), context.clone()));
                }
            }
        }
        out.extend(fresh);
        Ok(out)
    }
}

/// [`stamp`] for each of `boards`, in two queries.
async fn stamps(
    db: &impl ConnectionTrait,
    boards: &[BoardCode],
) -> anyhow::Result<HashMap<BoardCode, Stamp>> {
    let mut out: HashMap<BoardCode, Stamp> = boards
        .iter()
        .map(|board| (*board, (0, None, 0, None)))
        .collect();
    if boards.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let marks: Vec<String> = (1..=boards.len())
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    for (table, settings) in [
        ("board_settings_changes", true),
        ("board_pathway_changes", false),
    ] {
        let sql = format!(
            "SELECT board, COUNT(*) AS n, MAX(event_id) AS last FROM {table} \
             WHERE board IN ({}) GROUP BY board",
            marks.join(", ")
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                boards.iter().map(|b| b.code().into()),
            ))
            .await
            .context("cannot read the boards' histories")?;
        for row in rows {
            let board: String = row
                .try_get("", "board")
                .context("cannot read a board's history")?;
            let n: i64 = row
                .try_get("", "n")
                .context("cannot read a board's history")?;
            let last: Option<String> = row
                .try_get("", "last")
                .context("cannot read a board's history")?;
            let Ok(board) = BoardCode::parse(&board) else {
                continue;
            };
            if let Some(stamp) = out.get_mut(&board) {
                if settings {
                    (stamp.0, stamp.1) = (n, last);
                } else {
                    (stamp.2, stamp.3) = (n, last);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "tests/boards.rs"]
mod tests;
