//! The durable consumer `decision`: vetting outcomes become decisions,
//! opt-ins end windows, and each board's latest settings are kept. Each
//! event is handled in the inbox's transaction; the failure's class decides
//! the ack: an event that can never be handled is dead-lettered, anything
//! that may heal (a conflict, the database) is tried again.

use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::DatabaseTransaction;

use crate::application::{Decisions, Error};
use crate::store::board_settings;

/// Durable consumer name.
pub const DURABLE: &str = "decision";

/// Subjects this consumer follows, on every board.
pub fn filters() -> Vec<String> {
    vec![
        proto::filter_all_boards("vetting", Some("completed")),
        proto::filter_all_boards("referral", Some("opted_in")),
        proto::filter_all_boards("board", Some("settings_changed")),
    ]
}

pub struct DecisionConsumer {
    pub decisions: Decisions,
}

impl Handler for DecisionConsumer {
    /// Everything it needs is in the event.
    type Prepared = ();

    async fn prepare(&self, _event: &Event) -> Result<(), HandleError> {
        Ok(())
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        (): (),
    ) -> Result<(), HandleError> {
        let handled = match &event.payload {
            Some(Payload::VettingCompleted(completed)) => {
                self.decisions.record_outcome(txn, event, completed).await
            }
            Some(Payload::ReferralOptedIn(opted_in)) => {
                self.decisions.record_opt_in(txn, event, opted_in).await
            }
            Some(Payload::BoardSettingsChanged(_)) => {
                board_settings::apply(txn, event).await?;
                return Ok(());
            }
            Some(other) => {
                let (aggregate, name) = other.kind();
                return Err(HandleError::Rejected(format!(
                    "the decision service does not handle {aggregate}.{name}"
                )));
            }
            None => return Err(HandleError::Rejected("event without payload".into())),
        };
        handled.map_err(ack_of)
    }
}

/// The ack an error earns.
fn ack_of(error: Error) -> HandleError {
    match error {
        Error::Validation(_) | Error::Refused(_) | Error::Forbidden(_) | Error::NotFound { .. } => {
            HandleError::Rejected(error.to_string())
        }
        Error::Conflict(_)
        | Error::ReferrerCheckUnavailable(_)
        | Error::Unavailable { .. }
        | Error::Unexpected(_) => HandleError::Retry(error.into()),
    }
}
