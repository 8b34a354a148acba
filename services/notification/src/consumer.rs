//! The durable consumer `notification`: decisions, questions to the
//! referrer and reminders of those unanswered, reminders to opt in, opt-in
//! windows that passed (`decision.opt_in_lapsed`), withdrawals and referrals
//! to hand on (routed away at receipt, or redirected) become planned
//! deliveries, and a board's changed settings its channels and templates,
//! each in the inbox transaction. The referral's contact details are asked
//! of intake before that transaction begins. An ending (withdrawal, lapse,
//! decline, redirect) is kept beside its deliveries, and `referral.closed`
//! follows once they have all ended (`application::closing`).

use chrono::Utc;
use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::DatabaseTransaction;

use pathway_common::pii::Pii;
use serde_json::Value;

use crate::application::handoff::is_redirect;
use crate::application::{Error, Notifications};
use crate::domain::Contacts;

/// Durable consumer name.
pub const DURABLE: &str = "notification";

/// Subjects this consumer follows, on every board.
pub fn filters() -> Vec<String> {
    vec![
        proto::filter_all_boards("decision", Some("recorded")),
        proto::filter_all_boards("decision", Some("opt_in_reminder_due")),
        proto::filter_all_boards("decision", Some("opt_in_lapsed")),
        proto::filter_all_boards("referral", Some("routed_standard")),
        proto::filter_all_boards("referral", Some("erased")),
        proto::filter_all_boards("referral", Some("withdrawn")),
        proto::filter_all_boards("vetting", Some("info_requested")),
        proto::filter_all_boards("vetting", Some("info_request_overdue")),
        proto::filter_all_boards("board", Some("settings_changed")),
        proto::filter_all_boards("analytics", Some("daily_summary")),
    ]
}

pub struct NotificationConsumer {
    pub notifications: Notifications,
    /// Set when a batch erased a patient's messages.
    pub scrub: pathway_common::db::ScrubAfterCommit,
}

impl Handler for NotificationConsumer {
    /// The referral's contact details, for a decision or a question; and
    /// the referral itself, for one to hand on.
    type Prepared = Option<(Contacts, Option<Pii<Value>>)>;

    async fn after_commit(&self, db: &sea_orm::DatabaseConnection) {
        self.scrub.run(db).await;
    }

    async fn prepare(&self, event: &Event) -> Result<Self::Prepared, HandleError> {
        let handoff_purpose = match &event.payload {
            Some(Payload::ReferralRoutedStandard(_)) => {
                Some("hand the referral to the board's route and tell the referrer")
            }
            Some(Payload::DecisionRecorded(recorded)) if is_redirect(recorded) => {
                Some("hand the redirected referral on and tell the referrer and the patient")
            }
            _ => None,
        };
        if let Some(purpose) = handoff_purpose {
            return self
                .notifications
                .handoff_for(event, purpose)
                .await
                .map(|(contacts, referral)| Some((contacts, Some(referral))))
                .or_else(nothing_if_erased);
        }
        let purpose = match &event.payload {
            Some(Payload::DecisionRecorded(_)) => {
                "tell the referrer and the patient of the decision"
            }
            Some(Payload::VettingInfoRequested(_)) => "ask the referrer for more information",
            Some(Payload::VettingInfoRequestOverdue(_)) => {
                "remind the referrer of an unanswered question"
            }
            Some(Payload::DecisionOptInReminderDue(_)) => "remind the patient to opt in",
            Some(Payload::DecisionOptInLapsed(_)) => {
                "tell the referrer and the patient the referral closed"
            }
            Some(Payload::ReferralWithdrawn(_)) => {
                "tell the referrer and the patient the referral was withdrawn"
            }
            _ => return Ok(None),
        };
        self.notifications
            .contacts_for(event, purpose)
            .await
            .map(|contacts| Some((contacts, None)))
            .or_else(nothing_if_erased)
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        prepared: Self::Prepared,
    ) -> Result<(), HandleError> {
        let (contacts, handoff) = match prepared {
            Some((contacts, handoff)) => (Some(contacts), handoff),
            None => (None, None),
        };
        match (&event.payload, contacts) {
            (Some(Payload::DecisionRecorded(recorded)), Some(contacts)) => {
                self.notifications
                    .plan_for_decision(txn, event, recorded, &contacts)
                    .await
                    .map_err(classify)?;
                match handoff {
                    Some(referral) => self
                        .notifications
                        .plan_for_redirect(txn, event, recorded, &contacts, referral)
                        .await
                        .map_err(classify),
                    None => Ok(()),
                }
            }
            (Some(Payload::ReferralRoutedStandard(routed)), Some(contacts)) => match handoff {
                Some(referral) => self
                    .notifications
                    .plan_for_routed(txn, event, routed, &contacts, referral)
                    .await
                    .map_err(classify),
                None => Err(HandleError::Rejected(
                    "referral.routed_standard without its referral".into(),
                )),
            },
            (Some(Payload::VettingInfoRequested(requested)), Some(contacts)) => self
                .notifications
                .plan_for_information_request(txn, event, requested, &contacts)
                .await
                .map_err(classify),
            (Some(Payload::VettingInfoRequestOverdue(overdue)), Some(contacts)) => self
                .notifications
                .plan_for_information_reminder(txn, event, overdue, &contacts)
                .await
                .map_err(classify),
            (Some(Payload::DecisionOptInReminderDue(due)), Some(contacts)) => self
                .notifications
                .plan_for_reminder(txn, event, due, &contacts)
                .await
                .map_err(classify),
            (Some(Payload::ReferralWithdrawn(withdrawn)), Some(contacts)) => self
                .notifications
                .plan_for_withdrawal(txn, event, withdrawn, &contacts)
                .await
                .map_err(classify),
            (Some(Payload::DecisionOptInLapsed(_)), Some(contacts)) => self
                .notifications
                .plan_for_lapse(txn, event, &contacts)
                .await
                .map_err(classify),
            (Some(Payload::ReferralErased(erased)), _) => {
                self.notifications
                    .erase(
                        txn,
                        event,
                        erased,
                        event.occurred_at().unwrap_or_else(Utc::now),
                    )
                    .await
                    .map_err(classify)?;
                self.scrub.mark();
                Ok(())
            }
            // The patient's data was erased: nothing about it is sent.
            (
                Some(
                    Payload::DecisionRecorded(_)
                    | Payload::ReferralRoutedStandard(_)
                    | Payload::VettingInfoRequested(_)
                    | Payload::VettingInfoRequestOverdue(_)
                    | Payload::DecisionOptInReminderDue(_)
                    | Payload::DecisionOptInLapsed(_)
                    | Payload::ReferralWithdrawn(_),
                ),
                None,
            ) => {
                tracing::info!(
                    referral_id = %event.referral_id,
                    event_id = %event.event_id,
                    "the patient's data was erased: nothing sent"
                );
                self.notifications
                    .end_untold(txn, event)
                    .await
                    .map_err(classify)
            }
            (Some(Payload::AnalyticsDailySummary(summary)), _) => self
                .notifications
                .plan_daily_summary(txn, event, summary)
                .await
                .map_err(classify),
            (Some(Payload::BoardSettingsChanged(changed)), _) => self
                .notifications
                .keep_board_settings(txn, event, changed)
                .await
                .map_err(classify),
            (Some(other), _) => {
                let (aggregate, name) = other.kind();
                Err(HandleError::Rejected(format!(
                    "the notification service does not handle {aggregate}.{name}"
                )))
            }
            (None, _) => Err(HandleError::Rejected("event without payload".into())),
        }
    }
}

/// An event the use case rejects is dead-lettered; anything else (intake or
/// the database not answering, our own fault) is tried again.
/// Nothing to prepare for a referral whose patient's data was erased.
fn nothing_if_erased<T>(error: Error) -> Result<Option<T>, HandleError> {
    match error {
        Error::Erased => Ok(None),
        other => Err(classify(other)),
    }
}

fn classify(error: Error) -> HandleError {
    match error {
        Error::Rejected(reason) => HandleError::Rejected(reason),
        other => HandleError::Retry(anyhow::Error::new(other)),
    }
}
