//! Keeps intake's view of each referral's status and history in step with
//! what the other services publish, so a referrer can follow their referral
//! and withdraw or answer only when that makes sense.

use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};

use crate::domain::{Status, Transition};
use crate::store::queries::{record_history, release_open_lock, set_status};
use crate::store::{information_request, referral};

/// Subjects this consumer follows: everything about referrals that intake
/// did not publish itself.
pub fn filters() -> Vec<String> {
    vec![
        proto::filter_all_boards("vetting", None),
        proto::filter_all_boards("decision", None),
        proto::filter_all_boards("notification", None),
        proto::filter_all_boards("referral", Some("closed")),
    ]
}

pub struct StatusProjection;

impl Handler for StatusProjection {
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
        let Some(payload) = &event.payload else {
            return Err(HandleError::Rejected("event without payload".into()));
        };
        let transition = match payload {
            Payload::VettingClaimed(_) => Transition::Claimed,
            Payload::VettingReleased(_) => Transition::Released,
            Payload::VettingInfoRequested(_) => Transition::InfoRequested,
            Payload::VettingCompleted(_) => Transition::Vetted,
            Payload::DecisionRecorded(d) => Transition::Decided {
                opt_in: d
                    .outcome
                    .as_ref()
                    .is_some_and(|o| o.kind == proto::OutcomeKind::PatientOptIn as i32),
            },
            Payload::NotificationSent(_) => Transition::Notified,
            Payload::ReferralClosed(_) => Transition::Closed,
            // Failures and intake's own events change nothing here.
            _ => return Ok(()),
        };
        let Some(row) = referral::Entity::find_by_id(event.referral_id.clone())
            .one(txn)
            .await?
        else {
            return Err(HandleError::Rejected(format!(
                "no referral {} in intake",
                event.referral_id
            )));
        };
        let from: Status = row.status.into();
        if let Payload::VettingInfoRequested(request) = payload {
            information_request::Entity::insert(information_request::ActiveModel {
                id: Set(request.information_request_id.clone()),
                referral_id: Set(row.id.clone()),
                requested_by: Set(request.clinician.clone()),
                requested_at: Set(event.occurred_at().unwrap_or_else(chrono::Utc::now)),
                question: Set(Some(request.question.trim())
                    .filter(|q| !q.is_empty())
                    .map(str::to_owned)),
                answer: Set(None),
                answered_by: Set(None),
                answered_at: Set(None),
            })
            .exec(txn)
            .await?;
        }
        match from.apply(transition) {
            Ok(next) => {
                let id = row.id.clone();
                // Several notifications follow one decision: only the first moves the status.
                if next != from {
                    set_status(txn, row, next).await?;
                    if !next.is_open() {
                        release_open_lock(txn, &id).await?;
                    }
                }
                record_history(txn, event, next, decision_codes(payload)).await?;
            }
            Err(illegal) => {
                // Other services own these facts; keep them in the history
                // even when they arrive for a referral intake has closed
                // (a withdrawal racing a claim), and leave the status alone.
                tracing::warn!(%illegal, referral_id = %row.id, "event recorded without changing the status");
                record_history(txn, event, from, decision_codes(payload)).await?;
            }
        }
        Ok(())
    }
}

/// What a FHIR `Task` says of a decision: its outcome, priority and mode as
/// codes (never its free text, which stays with the decision service).
fn decision_codes(payload: &Payload) -> Option<serde_json::Value> {
    let Payload::DecisionRecorded(decision) = payload else {
        return None;
    };
    let outcome = decision.outcome.as_ref()?;
    let code = |name: &str, prefix: &str| {
        name.strip_prefix(prefix)
            .filter(|rest| *rest != "UNSPECIFIED")
            .map(str::to_ascii_lowercase)
    };
    let kind = proto::OutcomeKind::try_from(outcome.kind)
        .ok()
        .and_then(|k| code(k.as_str_name(), "OUTCOME_KIND_"));
    let priority = proto::Priority::try_from(outcome.priority)
        .ok()
        .and_then(|p| code(p.as_str_name(), "PRIORITY_"));
    let mode = proto::AppointmentMode::try_from(outcome.mode)
        .ok()
        .and_then(|m| code(m.as_str_name(), "APPOINTMENT_MODE_"));
    Some(serde_json::json!({"outcome": kind, "priority": priority, "mode": mode}))
}
