//! The boards: whether each is on the remote pathway, a board admin's switch
//! on or off from a Scottish day, and a board's settings. Every change is
//! kept with who made it and when, announced (`board.*`) and audited, in one
//! transaction.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::outbox;
use pathway_common::profile::Profile;
use pathway_common::validation::FieldError;
use pathway_proto::board::BoardSettings;
use pathway_proto::days;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{Error, Intake};
use crate::domain::BoardCode;
use crate::store::{board_settings_change, pathway_change, queries};

/// A board and whether referrals received today (in Scotland) go onto the
/// remote pathway.
#[derive(Debug, Clone)]
pub struct Board {
    pub board: BoardCode,
    pub pathway_enabled: bool,
    /// The Scottish day the current setting took effect, if it was ever set.
    pub since: Option<NaiveDate>,
    pub changes: Vec<PathwayChange>,
}

/// One switch of the pathway, on or off.
#[derive(Debug, Clone)]
pub struct PathwayChange {
    pub enabled: bool,
    /// The Scottish day from which it applies to referrals received.
    pub effective_date: NaiveDate,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// A board admin's switch, as asked.
#[derive(Debug, Clone)]
pub struct PathwaySwitch<'a> {
    pub enabled: bool,
    /// YYYY-MM-DD, a Scottish day; today in Scotland when `None`.
    pub effective_date: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// A board's settings in force today (in Scotland), and every stored
/// document, including those in force from a later day.
#[derive(Debug, Clone)]
pub struct BoardSettingsRecord {
    pub board: BoardCode,
    /// The defaults until a board admin stores some in force today.
    pub settings: BoardSettings,
    /// True while no settings of the board's own are in force.
    pub defaults: bool,
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// The Scottish day the settings in force took effect.
    pub effective_from: Option<NaiveDate>,
    /// In the order saved, oldest first.
    pub changes: Vec<SettingsChange>,
}

#[derive(Debug, Clone)]
pub struct SettingsChange {
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    /// The Scottish day from which it is in force.
    pub effective_from: NaiveDate,
    pub settings: BoardSettings,
}

/// The most characters a switch's reason may have.
const MAX_REASON: usize = 500;

impl Intake {
    /// The board named by `board` (as a path gives it) for a caller with one
    /// of `roles` on it: forbidden for another role or board, unknown for no
    /// such board. Settled before a body is read, so a caller who may not
    /// change a board learns nothing about the body.
    pub fn board_for(caller: &Caller, board: &str, roles: &[Role]) -> Result<BoardCode, Error> {
        caller.require_role(roles)?;
        let board = BoardCode::parse(board).map_err(Error::UnknownBoard)?;
        caller.require_board(board.code())?;
        Ok(board)
    }

    /// Every board, in the registry's order, as it stands on the Scottish
    /// day `now` falls on.
    pub async fn boards(&self, now: DateTime<Utc>) -> Result<Vec<Board>, Error> {
        let today = days::day_of(now);
        let mut out = Vec::new();
        for board in BoardCode::all() {
            out.push(board_record(self.db(), board, today).await?);
        }
        Ok(out)
    }

    /// Switch the pathway on or off for `board` from a date: the one asked,
    /// or the Scottish day `now` falls on.
    pub async fn switch_pathway(
        &self,
        caller: &Caller,
        board: &str,
        request: PathwaySwitch<'_>,
        now: DateTime<Utc>,
    ) -> Result<Board, Error> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin])?;
        let today = days::day_of(now);
        let effective_date = match request.effective_date {
            None => today,
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                Error::Validation(vec![FieldError::new(
                    "effective_date",
                    "must be a date as YYYY-MM-DD",
                )])
            })?,
        };
        let reason = request.reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
            return Err(Error::Validation(vec![FieldError::new(
                "reason",
                format!("must be at most {MAX_REASON} characters"),
            )]));
        }
        let txn = self.db().begin().await?;
        pathway_change::Entity::insert(pathway_change::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            board: Set(board.code().to_owned()),
            enabled: Set(request.enabled),
            effective_date: Set(effective_date),
            changed_by: Set(caller.subject.clone()),
            changed_at: Set(now),
            reason: Set(reason.map(str::to_owned)),
        })
        .exec(&txn)
        .await?;
        let event = Event::new(
            board.code(),
            None,
            &caller.subject,
            now,
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: request.enabled,
                effective_date: effective_date.to_string(),
                changed_by: caller.subject.clone(),
                reason: reason.unwrap_or_default().to_owned(),
            }),
        );
        outbox::enqueue(&txn, &event).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: if request.enabled {
                    "board.pathway_on"
                } else {
                    "board.pathway_off"
                },
                referral_id: None,
                board: Some(board.code()),
                source: &caller.source,
                purpose: reason,
            },
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(board = board.code(), enabled = request.enabled, %effective_date, "pathway switched");
        board_record(self.db(), board, today).await
    }

    /// The settings of `board` in force on the Scottish day `now` falls on,
    /// and every change, for its board admins and clinicians.
    pub async fn board_settings(
        &self,
        caller: &Caller,
        board: &str,
        now: DateTime<Utc>,
    ) -> Result<BoardSettingsRecord, Error> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin, Role::Clinician])?;
        settings_record(self.db(), board, days::day_of(now)).await
    }

    /// Store the whole settings document of `board`, in force from
    /// `effective_from` (YYYY-MM-DD, a Scottish day: today or later; today
    /// in Scotland when `None`), announce it (`board.settings_changed`) and
    /// audit it, in one transaction.
    pub async fn set_board_settings(
        &self,
        caller: &Caller,
        board: &str,
        settings: BoardSettings,
        effective_from: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BoardSettingsRecord, Error> {
        let board = Self::board_for(caller, board, &[Role::BoardAdmin])?;
        let today = days::day_of(now);
        let effective_from = match effective_from {
            None => Ok(today),
            Some(text) => effective_day(text, today),
        };
        let mut problems = settings.problems();
        // Production refuses at start what it refuses here, so a board's
        // settings cannot bring back the file sink or plain http.
        if Profile::from_env()? == Profile::Production {
            problems.extend(settings.production_problems());
        }
        let mut invalid: Vec<FieldError> = problems
            .into_iter()
            .map(|(field, reason)| FieldError::new(field, reason))
            .collect();
        if let Err(why) = &effective_from {
            invalid.push(why.clone());
        }
        let effective_from = match effective_from {
            Ok(day) if invalid.is_empty() => day,
            _ => return Err(Error::Validation(invalid)),
        };
        let settings_json =
            serde_json::to_string(&settings).context("cannot serialise board settings")?;
        let txn = self.db().begin().await?;
        board_settings_change::Entity::insert(board_settings_change::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            board: Set(board.code().to_owned()),
            settings_json: Set(settings_json.clone()),
            changed_by: Set(caller.subject.clone()),
            changed_at: Set(now),
            effective_date: Set(Some(effective_from)),
        })
        .exec(&txn)
        .await?;
        let event = Event::new(
            board.code(),
            None,
            &caller.subject,
            now,
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: settings.vetting_target_working_days,
                changed_by: caller.subject.clone(),
                settings_json,
                effective_date: effective_from.format("%Y-%m-%d").to_string(),
            }),
        );
        outbox::enqueue(&txn, &event).await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "board.settings_changed",
                referral_id: None,
                board: Some(board.code()),
                source: &caller.source,
                purpose: Some("board settings changed"),
            },
        )
        .await?;
        let record = settings_record(&txn, board, today).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(
            board = board.code(),
            vetting_target_working_days = settings.vetting_target_working_days,
            %effective_from,
            "board settings changed"
        );
        Ok(record)
    }
}

/// `board` as it stands on the Scottish day `today`.
async fn board_record<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    today: NaiveDate,
) -> Result<Board, Error> {
    let changes = queries::pathway_changes(db, board.code()).await?;
    let current = changes
        .iter()
        .filter(|c| c.effective_date <= today)
        .max_by_key(|c| (c.effective_date, c.changed_at));
    Ok(Board {
        board,
        pathway_enabled: current.is_some_and(|c| c.enabled),
        since: current.map(|c| c.effective_date),
        changes: changes
            .into_iter()
            .map(|c| PathwayChange {
                enabled: c.enabled,
                effective_date: c.effective_date,
                changed_by: c.changed_by,
                changed_at: c.changed_at,
                reason: c.reason,
            })
            .collect(),
    })
}

/// The day a change asked for is in force from: a Scottish day, today or
/// later. Settings are not back-dated: the waits already judged by a day's
/// settings stay judged by them (docs/decisions/0021-effective-dated-settings.md).
fn effective_day(text: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| FieldError::new("effective_from", "must be a date as YYYY-MM-DD"))?;
    if day < today {
        return Err(FieldError::new(
            "effective_from",
            format!("must be today ({today}, in Scotland) or later: settings are not back-dated"),
        ));
    }
    Ok(day)
}

/// `board`'s settings in force on the Scottish day `today`: of the changes
/// in force by then, the one from the latest day, and of two from one day
/// the one saved later.
pub(super) async fn settings_record<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    today: NaiveDate,
) -> Result<BoardSettingsRecord, Error> {
    let rows = queries::board_settings_changes(db, board.code()).await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let settings: BoardSettings =
            serde_json::from_str(&row.settings_json).with_context(|| {
                format!("stored settings {} of {} are unreadable", row.id, row.board)
            })?;
        changes.push(SettingsChange {
            changed_by: row.changed_by,
            changed_at: row.changed_at,
            // A change kept before effective dates: from the day it was saved.
            effective_from: row
                .effective_date
                .unwrap_or_else(|| days::day_of(row.changed_at)),
            settings,
        });
    }
    // `changes` is in the order saved: the last of the greatest day wins.
    let current = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.effective_from <= today)
        .max_by_key(|(i, c)| (c.effective_from, *i))
        .map(|(_, c)| c);
    Ok(BoardSettingsRecord {
        board,
        settings: current.map(|c| c.settings.clone()).unwrap_or_default(),
        defaults: current.is_none(),
        changed_by: current.map(|c| c.changed_by.clone()),
        changed_at: current.map(|c| c.changed_at),
        effective_from: current.map(|c| c.effective_from),
        changes,
    })
}
