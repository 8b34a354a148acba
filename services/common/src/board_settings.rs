//! Each board's settings documents ([`BoardSettings`]), kept from
//! `board.settings_changed` in a service's own database. Intake owns the
//! document and publishes every change; decision and vetting each keep this
//! copy of it, so it lives here once.
//!
//! Settings are effective-dated: a change is in force from its
//! `effective_date`, a Scottish day (Europe/London), or, for a change that
//! gives none (published before the field), from the moment it was saved.
//! Every change is kept (`board_settings_versions`), so that a service asks
//! for the settings in force now ([`of_board`]) or on a day
//! ([`in_force_on`]); a change in force from a later day does not apply
//! before it. Of the changes in force, the one from the latest day wins, and
//! of two from one day the one saved later. The `board_settings` table keeps
//! the latest change saved, as before.
//!
//! It is plumbing, not a rule of any one service: a projection of a contract
//! type (`pathway_proto::board`) that reads the same wherever it is kept.
//! What a service does with the settings (the outcomes it offers, its target
//! dates, its claim lease) stays in that service.
//!
//! - [`migrate`]: called from a service's own `Migrator` (and by
//!   [`VersionsMigration`], for a database made before the versions); creates
//!   the tables, adds the columns an older copy lacks, and keeps the latest
//!   change of a board with no versions yet as its first.
//! - [`apply`]: one `board.settings_changed`, in the inbox's transaction.
//! - [`of_board`], [`in_force_on`]: a board's settings in force now, or on a
//!   Scottish day; the defaults before any change is in force.
//! - [`history`]: what judges a wait on every day (calendar and target), for
//!   a wait that spans changes.
//!
//! What a crash or a redelivery does:
//! - [`apply`] writes in the caller's transaction (the inbox's), so the row
//!   and the inbox's mark commit together or not at all: a crash before the
//!   commit leaves neither, and the redelivery applies the change again.
//! - JetStream may deliver an older change after a newer one (a message
//!   retried after the next was handled, a republish). A row is replaced only
//!   by a change at least as recent as it (`changed_at`, when intake saved
//!   it), so the older one is acknowledged without effect
//!   ([`Applied::Older`]), and applying one event twice writes the same row.
//!   Every change is still kept as a version (once per event): which is in
//!   force is worked out from the days and times, not the order delivered.
//! - A document that does not parse or breaks a rule is never kept: it is
//!   the sender's fault and is dead-lettered ([`ApplyError::Invalid`]).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::board::history::{SettingsHistory, SettingsVersion};
use pathway_proto::days;
use pathway_proto::v1::{Event, Payload};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use sea_orm_migration::prelude::{
    Alias, ColumnDef, MigrationName, MigrationTrait, SchemaManager, Table, async_trait,
};

use crate::inbox::HandleError;
use crate::validation::FieldError;

pub use entity::{ActiveModel, Column, Entity, Model};

/// The table's name in every service that keeps it.
pub const TABLE: &str = "board_settings";

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// A board's latest `board.settings_changed`: the document, who changed
    /// it, when, and the event that said so.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        /// Empty on rows kept before the column existed.
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        /// Empty on rows kept before the column existed.
        pub event_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `board_settings_versions`: every change, with the day it is in force from.
pub mod version {
    use sea_orm::entity::prelude::*;

    /// One `board.settings_changed` (or, with an `event_id` of `kept:` and
    /// the board, the latest change a service kept before versions).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub board: String,
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        /// The Scottish day it is in force from; `None`: from `changed_at`.
        pub effective_date: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// [`migrate`] as a migration of its own, for a service whose database was
/// made before the versions: add it to the service's `Migrator`.
pub struct VersionsMigration;

impl MigrationName for VersionsMigration {
    fn name(&self) -> &str {
        "m0100_board_settings_versions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for VersionsMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrate(manager).await
    }
}

/// Create the table, or add the columns an older copy of it lacks (vetting's
/// first table had only `board`, `settings_json` and `changed_at`). Safe to
/// run on a table that has them all, so a service may call it from more than
/// one of its migrations.
pub async fn migrate(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    crate::db::create_table(manager, Entity).await?;
    for column in ["changed_by", "event_id"] {
        if !manager.has_column(TABLE, column).await? {
            // Rows kept before the column existed read as "not known".
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(TABLE))
                        .add_column(
                            ColumnDef::new(Alias::new(column))
                                .string()
                                .not_null()
                                .default(""),
                        )
                        .to_owned(),
                )
                .await?;
        }
    }
    crate::db::create_table(manager, version::Entity).await?;
    // The latest change kept before versions is the board's first version,
    // in force from when it was saved.
    let db = manager.get_connection();
    for kept in Entity::find().all(db).await? {
        let has_versions = version::Entity::find()
            .filter(version::Column::Board.eq(kept.board.as_str()))
            .one(db)
            .await?
            .is_some();
        if !has_versions {
            version::ActiveModel::from(version::Model {
                event_id: format!("kept:{}", kept.board),
                board: kept.board,
                settings_json: kept.settings_json,
                changed_by: kept.changed_by,
                changed_at: kept.changed_at,
                effective_date: None,
            })
            .reset_all()
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The change is now the board's settings.
    Kept,
    /// The board already has a newer change, made at `current`: this one was
    /// delivered late and changes nothing.
    Older { current: DateTime<Utc> },
}

/// Why a `board.settings_changed` was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event can never be applied (not a settings change, no known board,
    /// a document that does not parse or breaks a rule), every field at once.
    #[error("{}", crate::validation::describe(.0))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<ApplyError> for HandleError {
    /// An invalid event is dead-lettered; the database may heal.
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Invalid(_) => Self::Rejected(error.to_string()),
            ApplyError::Database(error) => error.into(),
        }
    }
}

/// Why a board's settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The stored document does not parse: a fault of ours, not the caller's.
    #[error(transparent)]
    Unreadable(anyhow::Error),
}

/// Keep the settings `event` (a `board.settings_changed`) carries as its
/// board's, unless the board already has a newer change.
pub async fn apply<C: ConnectionTrait>(txn: &C, event: &Event) -> Result<Applied, ApplyError> {
    let Some(Payload::BoardSettingsChanged(changed)) = &event.payload else {
        return Err(ApplyError::Invalid(vec![FieldError::new(
            "payload",
            "not a board.settings_changed",
        )]));
    };
    let board = BoardCode::parse(&event.board);
    let settings = serde_json::from_str::<BoardSettings>(&changed.settings_json);
    let mut invalid = Vec::new();
    if let Err(why) = &board {
        invalid.push(FieldError::new("board", why.clone()));
    }
    match &settings {
        Ok(settings) => invalid.extend(
            settings
                .problems()
                .into_iter()
                .map(|(field, reason)| FieldError::new(format!("settings_json.{field}"), reason)),
        ),
        Err(error) => invalid.push(FieldError::new("settings_json", error.to_string())),
    }
    let effective_date = if changed.effective_date.is_empty() {
        None
    } else {
        match NaiveDate::parse_from_str(&changed.effective_date, "%Y-%m-%d") {
            Ok(day) => Some(day),
            Err(_) => {
                invalid.push(FieldError::new(
                    "effective_date",
                    "must be a date as YYYY-MM-DD",
                ));
                None
            }
        }
    };
    let board = match board {
        Ok(board) if invalid.is_empty() => board,
        _ => return Err(ApplyError::Invalid(invalid)),
    };

    let changed_at = event.occurred_at().unwrap_or_else(Utc::now);
    if version::Entity::find_by_id(event.event_id.clone())
        .one(txn)
        .await?
        .is_none()
    {
        version::ActiveModel::from(version::Model {
            event_id: event.event_id.clone(),
            board: board.code().to_owned(),
            settings_json: changed.settings_json.clone(),
            changed_by: changed.changed_by.clone(),
            changed_at,
            effective_date,
        })
        .reset_all()
        .insert(txn)
        .await?;
    }
    let existing = Entity::find_by_id(board.code().to_owned()).one(txn).await?;
    if let Some(current) = &existing
        && current.changed_at > changed_at
    {
        tracing::info!(
            %board,
            event_id = %event.event_id,
            kept = %current.changed_at,
            "an older board.settings_changed: acknowledged without changing the settings"
        );
        return Ok(Applied::Older {
            current: current.changed_at,
        });
    }
    // Every column set, so that an update writes them all.
    let row = ActiveModel::from(Model {
        board: board.code().to_owned(),
        settings_json: changed.settings_json.clone(),
        changed_by: changed.changed_by.clone(),
        changed_at,
        event_id: event.event_id.clone(),
    })
    .reset_all();
    if existing.is_some() {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    Ok(Applied::Kept)
}

/// The board's settings in force now, or the defaults before any change is.
pub async fn of_board<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<BoardSettings, SettingsError> {
    in_force(db, board, Utc::now(), None).await
}

/// The board's settings in force on the Scottish day `day` (a change that
/// gave no effective date counts from the day it was saved), or the
/// defaults before any change is.
pub async fn in_force_on<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    day: NaiveDate,
) -> Result<BoardSettings, SettingsError> {
    in_force(db, board, days::end_of(day), Some(day)).await
}

/// The board's settings history: each change from the Scottish day it is
/// in force (a change that gave no effective date, from the day it was
/// saved), added in the order saved; the defaults before the first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<SettingsHistory, SettingsError> {
    let versions = version::Entity::find()
        .filter(version::Column::Board.eq(board.code()))
        .order_by_asc(version::Column::ChangedAt)
        .order_by_asc(version::Column::EventId)
        .all(db)
        .await?;
    let mut history = SettingsHistory::default();
    for v in versions {
        let settings: BoardSettings = serde_json::from_str(&v.settings_json)
            .with_context(|| format!("the stored settings of {board} are unreadable"))
            .map_err(SettingsError::Unreadable)?;
        let from = v
            .effective_date
            .unwrap_or_else(|| days::day_of(v.changed_at));
        history.change_from(from, SettingsVersion::of(&settings));
    }
    Ok(history)
}

/// The change in force at `at` (on `day`, when given, for a change without
/// an effective date).
async fn in_force<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    at: DateTime<Utc>,
    day: Option<NaiveDate>,
) -> Result<BoardSettings, SettingsError> {
    let today = day.unwrap_or_else(|| days::day_of(at));
    let versions = version::Entity::find()
        .filter(version::Column::Board.eq(board.code()))
        .all(db)
        .await?;
    let current = versions
        .into_iter()
        .filter_map(|v| {
            let from = match v.effective_date {
                Some(from) if from <= today => from,
                Some(_) => return None,
                None if day.is_some() => {
                    Some(days::day_of(v.changed_at)).filter(|from| *from <= today)?
                }
                None if v.changed_at <= at => days::day_of(v.changed_at),
                None => return None,
            };
            Some(((from, v.changed_at, v.event_id.clone()), v))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v);
    match current {
        Some(version) => serde_json::from_str(&version.settings_json)
            .with_context(|| format!("the stored settings of {board} are unreadable"))
            .map_err(SettingsError::Unreadable),
        None => Ok(BoardSettings::default()),
    }
}

#[cfg(test)]
#[path = "tests/board_settings.rs"]
mod tests;
