//! The `board_settings` table: each board's latest settings document
//! ([`BoardSettings`]), kept from `board.settings_changed` in a service's own
//! database. Intake owns the document and publishes every change; decision
//! and vetting each keep this copy of it, so it lives here once.
//!
//! It is plumbing, not a rule of any one service: a projection of a contract
//! type (`pathway_proto::board`) that reads the same wherever it is kept.
//! What a service does with the settings (the outcomes it offers, its target
//! dates, its claim lease) stays in that service.
//!
//! - [`migrate`]: called from a service's own `Migrator`; creates the table,
//!   or adds the columns an older copy of it lacks.
//! - [`apply`]: one `board.settings_changed`, in the inbox's transaction.
//! - [`of_board`]: a board's settings, or the defaults when it never changed
//!   them.
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
//! - A document that does not parse or breaks a rule is never kept: it is
//!   the sender's fault and is dead-lettered ([`ApplyError::Invalid`]).

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{Event, Payload};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};
use sea_orm_migration::prelude::{Alias, ColumnDef, SchemaManager, Table};

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
    let board = match board {
        Ok(board) if invalid.is_empty() => board,
        _ => return Err(ApplyError::Invalid(invalid)),
    };

    let changed_at = event.occurred_at().unwrap_or_else(Utc::now);
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

/// The board's latest settings, or the defaults when it never changed them.
pub async fn of_board<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<BoardSettings, SettingsError> {
    match Entity::find_by_id(board.code().to_owned()).one(db).await? {
        Some(row) => serde_json::from_str(&row.settings_json)
            .with_context(|| format!("the stored settings of {board} are unreadable"))
            .map_err(SettingsError::Unreadable),
        None => Ok(BoardSettings::default()),
    }
}

#[cfg(test)]
#[path = "tests/board_settings.rs"]
mod tests;
