//! One de-identified fact per referral: where it went, the attributes intake
//! derived, and when each milestone happened. Patient identifiers never
//! reach analytics (the events do not carry them); the keyed pseudonym is
//! kept for re-referral analysis only.

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use pathway_proto::board::outcome_code;
use pathway_proto::v1::{self as proto, Event, Payload};
use serde::{Deserialize, Serialize};

use super::first_appointment::{FirstAppointment, Happened};
use super::re_referrals::ReReferred;

/// The reason of a referral closed because its opt-in window passed.
const OPT_IN_WINDOW_PASSED: &str = "opt_in_window_passed";

/// How a referral entered: onto the remote vetting pathway, or the
/// standard route because its board was not on the pathway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Remote,
    Standard,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Remote => "remote",
            Route::Standard => "standard",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "remote" => Some(Route::Remote),
            "standard" => Some(Route::Standard),
            _ => None,
        }
    }
}

/// The de-identified attributes intake derived at receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// e.g. `40-49`, or `unknown`.
    pub age_band: String,
    /// `male`, `female`, `not_known` or `unspecified`.
    pub sex: String,
    /// Scottish Government 6-fold class, 1 (large urban) to 6 (remote
    /// rural); 0 when unknown.
    pub urban_rural_class: u8,
    /// 1 (most deprived) to 5; 0 when unknown.
    pub simd_quintile: u8,
    /// Keyed pseudonym of the patient, for re-referral analysis only.
    pub patient_pseudonym: String,
}

impl Attributes {
    fn from_proto(patient: Option<&proto::PatientAttributes>) -> Self {
        let Some(p) = patient else {
            return Self {
                age_band: "unknown".into(),
                sex: "unspecified".into(),
                ..Self::default()
            };
        };
        let sex = match proto::Sex::try_from(p.sex).unwrap_or(proto::Sex::Unspecified) {
            proto::Sex::Male => "male",
            proto::Sex::Female => "female",
            proto::Sex::NotKnown => "not_known",
            proto::Sex::Unspecified => "unspecified",
        };
        Self {
            age_band: if p.age_band.is_empty() {
                "unknown".into()
            } else {
                p.age_band.clone()
            },
            sex: sex.into(),
            urban_rural_class: u8::try_from(p.urban_rural_class)
                .ok()
                .filter(|c| *c <= 6)
                .unwrap_or(0),
            simd_quintile: u8::try_from(p.simd_quintile)
                .ok()
                .filter(|q| *q <= 5)
                .unwrap_or(0),
            patient_pseudonym: p.patient_pseudonym.clone(),
        }
    }
}

/// A wait for information: the clock stops from the question until the
/// answer (or until vetting, when the clinician went ahead without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub information_request_id: String,
    pub requested_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Everything analytics knows about one referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub referral_id: String,
    pub board: BoardCode,
    /// `None` until `referral.received` or `referral.routed_standard` arrives.
    pub route: Option<Route>,
    pub received_at: Option<DateTime<Utc>>,
    pub attributes: Attributes,
    /// The referring GP practice's code (an organisation, not a person);
    /// empty when the referral did not name one.
    pub practice_code: String,
    pub red_flags: u32,
    pub re_referral: bool,
    /// First claim by a vetting clinician.
    pub claimed_at: Option<DateTime<Utc>>,
    pub pauses: Vec<Pause>,
    /// The first vetting outcome recorded (a correction does not move it).
    pub vetted_at: Option<DateTime<Utc>>,
    /// The first decision recorded.
    pub decided_at: Option<DateTime<Utc>>,
    /// The current outcome code: a correction replaces it.
    pub outcome: Option<String>,
    /// `urgent`, `soon` or `routine`, for `accept`.
    pub priority: Option<String>,
    /// The first notification sent about this referral.
    pub notified_at: Option<DateTime<Utc>>,
    pub notification_failures: u32,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
    /// The first appointment, as the board's hospital system reported it.
    pub first_appointment: FirstAppointment,
    /// Some event of it was demo data (`Event.demo`, from `pathway demo`):
    /// a page that counts it says it includes demo data.
    pub demo: bool,
    /// For a referral closed with advice, the boards its patient was
    /// referred to again within 6 and 12 months: worked out from the
    /// patient's other facts, not from this referral's events.
    pub re_referred: ReReferred,
}

/// An event analytics cannot make sense of.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FactError {
    #[error("{0} has no referral_id")]
    NoReferral(&'static str),
    #[error("the event has no valid occurred_at")]
    NoTime,
}

impl Fact {
    /// A referral analytics has heard of but knows nothing else about yet.
    pub fn new(referral_id: &str, board: BoardCode) -> Self {
        Self {
            referral_id: referral_id.to_owned(),
            board,
            route: None,
            received_at: None,
            attributes: Attributes::default(),
            practice_code: String::new(),
            red_flags: 0,
            re_referral: false,
            claimed_at: None,
            pauses: Vec::new(),
            vetted_at: None,
            decided_at: None,
            outcome: None,
            priority: None,
            notified_at: None,
            notification_failures: 0,
            withdrawn_at: None,
            closed_at: None,
            closed_reason: None,
            first_appointment: FirstAppointment::default(),
            demo: false,
            re_referred: ReReferred::default(),
        }
    }

    /// The referral this event is about, when it is about one.
    pub fn referral_of(event: &Event) -> Result<Option<&str>, FactError> {
        let Some(payload) = &event.payload else {
            return Ok(None);
        };
        let (aggregate, _) = payload.kind();
        // A board's event, or analytics' own summary of a board's day.
        if aggregate == "board" || aggregate == "analytics" {
            return Ok(None);
        }
        if event.referral_id.is_empty() {
            return Err(FactError::NoReferral(aggregate));
        }
        Ok(Some(&event.referral_id))
    }

    /// Record what `event` says about this referral. Each milestone keeps
    /// its first time, so the order of redelivered or late events does not
    /// move it; the outcome is the latest, since a correction supersedes.
    pub fn apply(&mut self, event: &Event) -> Result<(), FactError> {
        let at = event.occurred_at().ok_or(FactError::NoTime)?;
        self.demo |= event.demo;
        let Some(payload) = &event.payload else {
            return Ok(());
        };
        match payload {
            Payload::ReferralReceived(received) => {
                self.route = Some(Route::Remote);
                self.received_at = Some(
                    received
                        .received_at
                        .as_ref()
                        .and_then(proto::from_timestamp)
                        .unwrap_or(at),
                );
                self.attributes = Attributes::from_proto(received.patient.as_ref());
                self.practice_code = received.practice_code.trim().to_owned();
                self.red_flags = u32::try_from(received.red_flags.len()).unwrap_or(u32::MAX);
                self.re_referral = received.re_referral;
            }
            Payload::ReferralRoutedStandard(routed) => {
                self.route = Some(Route::Standard);
                self.received_at = Some(
                    routed
                        .received_at
                        .as_ref()
                        .and_then(proto::from_timestamp)
                        .unwrap_or(at),
                );
                self.attributes = Attributes::from_proto(routed.patient.as_ref());
                self.practice_code = routed.practice_code.trim().to_owned();
            }
            Payload::ReferralWithdrawn(_) => first(&mut self.withdrawn_at, at),
            Payload::ReferralInfoProvided(provided) => {
                if let Some(pause) = self
                    .pauses
                    .iter_mut()
                    .find(|p| p.information_request_id == provided.information_request_id)
                {
                    first(&mut pause.answered_at, at);
                }
            }
            Payload::ReferralOptedIn(_) => {}
            // `closed_at` is when the patient's opt-in window passed, as it
            // always was: `decision.opt_in_lapsed` says so now, and
            // `referral.closed` with that reason (which older histories
            // carry alone, and newer ones once everyone has been told) says
            // no earlier. The other endings have their own facts (withdrawn,
            // the outcome).
            Payload::DecisionOptInLapsed(_) => self.lapsed(at),
            Payload::ReferralClosed(closed) if closed.reason == OPT_IN_WINDOW_PASSED => {
                self.lapsed(at);
            }
            Payload::ReferralClosed(_) => {}
            Payload::VettingClaimed(_) => first(&mut self.claimed_at, at),
            Payload::VettingReleased(_) => {}
            Payload::VettingInfoRequested(requested) => {
                if !self
                    .pauses
                    .iter()
                    .any(|p| p.information_request_id == requested.information_request_id)
                {
                    self.pauses.push(Pause {
                        information_request_id: requested.information_request_id.clone(),
                        requested_at: at,
                        answered_at: None,
                    });
                }
            }
            Payload::VettingCompleted(completed) => {
                first(&mut self.vetted_at, at);
                // The decision service's record wins once it has spoken.
                if self.decided_at.is_none() {
                    self.set_outcome(completed.outcome.as_ref());
                }
            }
            Payload::DecisionRecorded(decision) => {
                let decided = decision
                    .decided_at
                    .as_ref()
                    .and_then(proto::from_timestamp)
                    .unwrap_or(at);
                first(&mut self.decided_at, decided);
                self.set_outcome(decision.outcome.as_ref());
            }
            Payload::NotificationSent(_) => first(&mut self.notified_at, at),
            Payload::NotificationFailed(_) => {
                self.notification_failures = self.notification_failures.saturating_add(1);
            }
            // A patient's erasure or restriction leaves their de-identified
            // facts as they are: they still count.
            Payload::BoardPathwayChanged(_)
            | Payload::BoardSettingsChanged(_)
            | Payload::DecisionOptInReminderDue(_)
            | Payload::VettingInfoRequestOverdue(_)
            | Payload::ReferralErased(_)
            | Payload::ReferralRestrictionChanged(_)
            | Payload::AnalyticsDailySummary(_) => {}
            Payload::AppointmentBooked(booked) => {
                self.appointment(booked.appointment.as_ref(), Happened::Booked);
            }
            Payload::AppointmentAttended(attended) => {
                self.appointment(attended.appointment.as_ref(), Happened::Attended);
            }
            Payload::AppointmentDidNotAttend(missed) => {
                self.appointment(missed.appointment.as_ref(), Happened::DidNotAttend);
            }
            Payload::AppointmentCancelled(cancelled) => {
                self.appointment(cancelled.appointment.as_ref(), Happened::Cancelled);
            }
        }
        Ok(())
    }

    fn appointment(&mut self, appointment: Option<&proto::Appointment>, happened: Happened) {
        if let Some(appointment) = appointment {
            self.first_appointment.apply(appointment, happened);
        }
    }

    /// The opt-in window passed at `at`: the earliest word of it wins,
    /// whichever arrives first.
    fn lapsed(&mut self, at: DateTime<Utc>) {
        if self.closed_at.is_none_or(|closed| at < closed) {
            self.closed_at = Some(at);
            self.closed_reason = Some(OPT_IN_WINDOW_PASSED.to_owned());
        }
    }

    fn set_outcome(&mut self, outcome: Option<&proto::Outcome>) {
        let Some(outcome) = outcome else { return };
        let kind = proto::OutcomeKind::try_from(outcome.kind).unwrap_or_default();
        self.outcome = outcome_code(kind).map(str::to_owned);
        self.priority = match proto::Priority::try_from(outcome.priority).unwrap_or_default() {
            proto::Priority::Urgent => Some("urgent".into()),
            proto::Priority::Soon => Some("soon".into()),
            proto::Priority::Routine => Some("routine".into()),
            proto::Priority::Unspecified => None,
        };
    }
}

fn first(slot: &mut Option<DateTime<Utc>>, at: DateTime<Utc>) {
    match slot {
        Some(existing) if *existing <= at => {}
        _ => *slot = Some(at),
    }
}

#[cfg(test)]
#[path = "tests/fact.rs"]
mod tests;
