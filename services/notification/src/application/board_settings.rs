//! A board's changed notification settings, kept in the consumer's
//! transaction if every template renders and every gateway is there.

use chrono::Utc;
use pathway_common::board_settings::{self, ApplyError};
use pathway_proto::v1::{self as proto, Event};
use sea_orm::ConnectionTrait;

use super::plan::board_of;
use super::{Error, Notifications};
use crate::store::{board_notification, boards};

impl Notifications {
    /// `board.settings_changed`: keep the board's notification settings, if
    /// every template renders and every gateway is there. If not, the event
    /// is refused (dead-lettered with the reason, for an admin to see) and the
    /// board keeps the settings it had: a board never sends with half a change.
    #[tracing::instrument(skip_all, fields(board = %event.board), err)]
    pub async fn keep_board_settings<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        changed: &proto::BoardSettingsChanged,
    ) -> Result<(), Error> {
        let board = board_of(event)?;
        let settings: pathway_proto::board::BoardSettings =
            serde_json::from_str(&changed.settings_json)
                .map_err(|e| Error::rejected(format!("settings_json: {e}")))?;
        if let Some((field, reason)) = settings.problems().into_iter().next() {
            return Err(Error::rejected(format!("settings_json.{field}: {reason}")));
        }
        let notification_json = match &settings.notification {
            Some(section) => {
                if let Err(error) = self.boards.build(&self.channels, section) {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "the board's new notification settings cannot be used: it keeps its previous ones"
                    );
                    return Err(Error::rejected(format!(
                        "settings_json.notification: {error:#}"
                    )));
                }
                Some(serde_json::to_string(section).map_err(|e| {
                    Error::Unexpected(anyhow::Error::new(e).context("cannot encode the settings"))
                })?)
            }
            None => None,
        };
        let row = board_notification::Model {
            board: board.code().to_owned(),
            notification_json,
            changed_by: changed.changed_by.clone(),
            changed_at: event.occurred_at().unwrap_or_else(Utc::now),
            event_id: event.event_id.clone(),
        };
        boards::keep(txn, row).await?;
        // The whole document too, by its effective day: the retention
        // sweep reads the periods in force.
        board_settings::apply(txn, event)
            .await
            .map_err(|error| match error {
                ApplyError::Invalid(_) => Error::rejected(error.to_string()),
                ApplyError::Database(error) => error.into(),
            })?;
        tracing::info!(by = %changed.changed_by, "the board's notification settings changed");
        Ok(())
    }
}
