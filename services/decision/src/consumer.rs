//! The durable consumer `decision`: vetting outcomes become decisions,
//! opt-ins resolve windows, and each board's latest settings are kept.

use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::DatabaseTransaction;

use crate::application::Decisions;

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
    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> Result<(), HandleError> {
        match &event.payload {
            Some(Payload::VettingCompleted(completed)) => {
                self.decisions.record_outcome(txn, event, completed).await
            }
            Some(Payload::ReferralOptedIn(opted_in)) => {
                self.decisions.record_opt_in(txn, event, opted_in).await
            }
            Some(Payload::BoardSettingsChanged(changed)) => {
                self.decisions
                    .keep_board_settings(txn, event, changed)
                    .await
            }
            Some(other) => {
                let (aggregate, name) = other.kind();
                Err(HandleError::Rejected(format!(
                    "the decision service does not handle {aggregate}.{name}"
                )))
            }
            None => Err(HandleError::Rejected("event without payload".into())),
        }
    }
}
