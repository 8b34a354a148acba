//! A referral's status as a FHIR R4 `Task` (the workflow pattern's
//! `ServiceRequest` + `Task`): pure mapping from what intake knows of the
//! referral to the resource, so that the same facts always read the same.
//!
//! `Task.status` follows FHIR's own meanings (the table is recorded in
//! `docs/decisions/0017-fhir-referrals.md`):
//!
//! | Pathway | Task.status |
//! |---|---|
//! | `awaiting_vetting` (ready for a clinician) | `requested` |
//! | `in_vetting`, `vetted` (a clinician has it, no decision yet) | `received` |
//! | `info_requested` | `on-hold` (reason, and the question as a contained `CommunicationRequest`) |
//! | `awaiting_opt_in` | `on-hold` (waiting for the patient) |
//! | `decided` or `notified` as a service that takes the patient on | `accepted` (waiting for the first appointment) |
//! | `seen` (the first appointment attended) | `completed` |
//! | `decided` as advice, self-management, redirect or decline | `rejected` (also once notified) |
//! | `decided` with no outcome known | `in-progress` |
//! | `closed` after the opt-in window | `completed` |
//! | `routed_standard` (not vetted on the pathway) | `completed` |
//! | `withdrawn` | `cancelled` |
//!
//! `businessStatus` carries Pathway's own state and, once decided, the
//! decision's outcome, priority and mode, and what the board's hospital
//! system last said of the first appointment (booked for, attended on, not
//! attended on, cancelled: each with its Scottish day), each in its own
//! code system.
//!
//! The Task declares `UKCore-Task` ([`uk_core::TASK`]); it names no patient
//! (`for`), as the GP system knows its own.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{BOARD_SYSTEM, CODE_SYSTEM_BASE, PRACTICE_SYSTEM, uk_core};
use crate::domain::Status;
use crate::domain::appointment::Happened;
use crate::domain::appointment::fhir::REFERRAL_SYSTEM;

/// Identifier system of a clinician's request for information.
pub const INFORMATION_REQUEST_SYSTEM: &str =
    "https://pathway.scot.nhs.uk/fhir/Id/information-request";

/// The decision intake last heard of, as codes of Pathway's code systems
/// (`outcome`, `priority`, `appointment-mode`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionCodes {
    pub outcome: Option<String>,
    pub priority: Option<String>,
    pub mode: Option<String>,
}

/// An information request still waiting for its answer.
#[derive(Debug, Clone)]
pub struct OpenQuestion {
    pub id: String,
    pub requested_at: DateTime<Utc>,
    pub question: Option<String>,
}

/// A first appointment as the hospital system last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstAppointment {
    pub happened: Happened,
    /// The Scottish day it is (or was) for, when known.
    pub day: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

impl FirstAppointment {
    /// The one a Task tells of, among a referral's first appointments (a
    /// cancelled one and its replacement): the attended one, else the one
    /// booked, else the latest reported.
    pub fn current(all: impl IntoIterator<Item = FirstAppointment>) -> Option<FirstAppointment> {
        all.into_iter().max_by_key(|a| {
            let weight = match a.happened {
                Happened::Attended => 2,
                Happened::Booked => 1,
                Happened::DidNotAttend | Happened::Cancelled => 0,
            };
            (weight, a.updated_at)
        })
    }

    /// Its words in `businessStatus.text`.
    fn words(self) -> String {
        let day = self.day.map(|d| d.format("%-d %B %Y").to_string());
        match (self.happened, day) {
            (Happened::Booked, Some(day)) => format!("first appointment booked for {day}"),
            (Happened::Booked, None) => "first appointment booked".to_owned(),
            (Happened::Attended, Some(day)) => format!("first appointment attended on {day}"),
            (Happened::Attended, None) => "first appointment attended".to_owned(),
            (Happened::DidNotAttend, Some(day)) => {
                format!("first appointment on {day} not attended; awaiting a new appointment")
            }
            (Happened::DidNotAttend, None) => {
                "first appointment not attended; awaiting a new appointment".to_owned()
            }
            (Happened::Cancelled, _) => {
                "first appointment cancelled; awaiting a new appointment".to_owned()
            }
        }
    }
}

/// What a `Task` is made of.
#[derive(Debug, Clone)]
pub struct TaskFacts {
    pub referral_id: String,
    pub board: String,
    pub practice_code: String,
    pub status: Status,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub decision: Option<DecisionCodes>,
    pub open_questions: Vec<OpenQuestion>,
    pub first_appointment: Option<FirstAppointment>,
}

/// Outcomes after which the pain pathway (or a service it refers on to)
/// takes the patient on.
fn takes_patient_on(outcome: &str) -> bool {
    matches!(
        outcome,
        "accept"
            | "pain_management_programme"
            | "pain_psychology"
            | "physiotherapy"
            | "residential_programme"
    )
}

/// `Task.status` for a referral that is `status`, decided as `outcome` if
/// it was.
pub fn task_status(status: Status, outcome: Option<&str>) -> &'static str {
    match status {
        Status::AwaitingVetting => "requested",
        Status::InVetting | Status::Vetted => "received",
        Status::InfoRequested | Status::AwaitingOptIn => "on-hold",
        Status::Withdrawn => "cancelled",
        Status::RoutedStandard | Status::Seen => "completed",
        // Told or not, the pathway's part ends at the first appointment.
        Status::Decided | Status::Notified => match outcome {
            Some(o) if takes_patient_on(o) => "accepted",
            Some("patient_opt_in") => "on-hold",
            Some(_) => "rejected",
            None => "in-progress",
        },
        Status::Closed => match outcome {
            Some(o) if takes_patient_on(o) || o == "patient_opt_in" => "completed",
            Some(_) => "rejected",
            None => "completed",
        },
    }
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn coding(system: &str, code: &str) -> Value {
    json!({"system": format!("{CODE_SYSTEM_BASE}{system}"), "code": code})
}

fn business_status(facts: &TaskFacts) -> Value {
    let mut codings = vec![coding("referral-status", facts.status.as_str())];
    let mut words = vec![facts.status.as_str().replace('_', " ")];
    if let Some(decision) = &facts.decision {
        for (system, code) in [
            ("outcome", &decision.outcome),
            ("priority", &decision.priority),
            ("appointment-mode", &decision.mode),
        ] {
            if let Some(code) = code {
                codings.push(coding(system, code));
                words.push(code.replace('_', " "));
            }
        }
    }
    if let Some(appointment) = facts.first_appointment {
        codings.push(coding("first-appointment", appointment.happened.as_str()));
        words.push(appointment.words());
    }
    json!({"coding": codings, "text": words.join(", ")})
}

/// The `Task` of a referral.
pub fn resource(facts: &TaskFacts) -> Value {
    let outcome = facts.decision.as_ref().and_then(|d| d.outcome.as_deref());
    let status = task_status(facts.status, outcome);
    let mut task = json!({
        "resourceType": "Task",
        "id": facts.referral_id,
        "meta": {
            "versionId": facts.version.to_string(),
            "lastUpdated": instant(facts.updated_at),
            "profile": uk_core::profile(uk_core::TASK),
        },
        "identifier": [{"system": REFERRAL_SYSTEM, "value": facts.referral_id}],
        "basedOn": [{"reference": format!("ServiceRequest/{}", facts.referral_id)}],
        "status": status,
        "businessStatus": business_status(facts),
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]},
        "focus": {"reference": format!("ServiceRequest/{}", facts.referral_id)},
        "authoredOn": instant(facts.received_at),
        "lastModified": instant(facts.updated_at),
        "requester": {"identifier": {"system": PRACTICE_SYSTEM, "value": facts.practice_code}},
        "owner": {"identifier": {"system": BOARD_SYSTEM, "value": facts.board}},
    });
    if facts.status == Status::AwaitingOptIn {
        task["statusReason"] = json!({"text": "waiting for the patient to opt in"});
    }
    if facts.status == Status::InfoRequested {
        task["statusReason"] = json!({
            "coding": [coding("task-status-reason", "information-requested")],
            "text": "the vetting clinician has asked the referrer for more information",
        });
        let mut contained = Vec::new();
        let mut input = Vec::new();
        for (n, open) in facts.open_questions.iter().enumerate() {
            let local = format!("information-request-{}", n + 1);
            let mut request = json!({
                "resourceType": "CommunicationRequest",
                "id": local,
                "identifier": [{"system": INFORMATION_REQUEST_SYSTEM, "value": open.id}],
                "basedOn": [{"reference": format!("ServiceRequest/{}", facts.referral_id)}],
                "status": "active",
                "authoredOn": instant(open.requested_at),
            });
            if let Some(question) = &open.question {
                request["payload"] = json!([{"contentString": question}]);
            }
            contained.push(request);
            input.push(json!({
                "type": {"coding": [coding("task-input", "information-request")], "text": "a question for the referrer"},
                "valueReference": {"reference": format!("#{local}")},
            }));
        }
        if !contained.is_empty() {
            task["contained"] = Value::Array(contained);
            task["input"] = Value::Array(input);
        }
    }
    task
}

#[cfg(test)]
#[path = "tests/task.rs"]
mod tests;
