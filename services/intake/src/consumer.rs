//! Keeps intake's view of each referral's status and history in step with
//! what the other services publish, so a referrer can follow their referral
//! and withdraw or answer only when that makes sense.

use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{Status, Transition, replay};
use crate::store::queries::{record_history, release_open_lock, set_status};
use crate::store::{history, information_request, referral};

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

pub struct StatusProjection {
    /// What the invitation of a `patient_opt_in` decision is made with.
    pub opt_in: crate::application::referrals::OptInLinks,
}

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
        // Locked (PostgreSQL), so that two instances handling two events of
        // one referral each see the other's in the history.
        let Some(row) = referral::Entity::find_by_id(event.referral_id.clone())
            .lock_exclusive()
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
                // The question's text is vetting's, read by its id (the
                // request's) when a referrer's view needs it.
                question: Set(None),
                answer: Set(None),
                answered_by: Set(None),
                answered_at: Set(None),
            })
            .exec(txn)
            .await?;
        }
        let detail = decision_codes(payload);
        let history = history::Entity::find()
            .filter(history::Column::ReferralId.eq(row.id.as_str()))
            .order_by_asc(history::Column::OccurredAt)
            .all(txn)
            .await?;
        let replayed = replayed(&history, event, transition);
        let next = match replayed {
            // A closed referral is not opened again by an event that turns
            // out to have come before another.
            Some(next) if from.is_open() || !next.is_open() => next,
            Some(_) => from,
            None => from.apply(transition).unwrap_or(from),
        };
        if let Err(illegal) = from.apply(transition)
            && next == from
        {
            // Other services own these facts; keep them in the history even
            // when they cannot move the status (a withdrawal racing a claim,
            // a second notification), and leave the status alone.
            tracing::debug!(%illegal, referral_id = %row.id, "event recorded without changing the status");
        }
        let id = row.id.clone();
        if next != from {
            set_status(txn, row, next).await?;
            if !next.is_open() {
                release_open_lock(txn, &id).await?;
            }
        }
        record_history(txn, event, next, detail).await?;
        if let Payload::DecisionRecorded(recorded) = payload
            && recorded
                .outcome
                .as_ref()
                .is_some_and(|o| o.kind == proto::OutcomeKind::PatientOptIn as i32)
        {
            crate::application::referrals::record_invitation(
                txn,
                &self.opt_in,
                &id,
                &event.board,
                recorded,
                event.occurred_at().unwrap_or_else(chrono::Utc::now),
            )
            .await?;
        }
        Ok(())
    }
}

/// The status `history` and `event` come to, replayed in the order the
/// events happened ([`replay`]); `None` when the history does not say where
/// the referral started.
fn replayed(history: &[history::Model], event: &Event, transition: Transition) -> Option<Status> {
    let start = history.iter().find_map(|row| match row.kind.as_str() {
        "referral.received" => Some(Status::AwaitingVetting),
        "referral.routed_standard" => Some(Status::RoutedStandard),
        _ => None,
    })?;
    let mut steps: Vec<(chrono::DateTime<chrono::Utc>, u8, Transition)> = history
        .iter()
        .filter_map(|row| {
            let transition = Transition::of_history(&row.kind, row.detail.as_deref())?;
            Some((row.occurred_at, transition.rank(), transition))
        })
        .collect();
    steps.push((
        event.occurred_at().unwrap_or_else(chrono::Utc::now),
        transition.rank(),
        transition,
    ));
    steps.sort_by_key(|(at, rank, _)| (*at, *rank));
    Some(replay(start, steps.into_iter().map(|(_, _, t)| t)))
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
