//! The referrer's answer to a clinician's question as a FHIR R4
//! `Communication`: `basedOn` the referral's `ServiceRequest`, `about` the
//! information request (an identifier of [`INFORMATION_REQUEST_SYSTEM`], as
//! the Task's contained `CommunicationRequest` carries it; optional: the
//! latest open request otherwise), the answer as `payload[0].contentString`.
//! Read into the same arguments the native answer takes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::task::INFORMATION_REQUEST_SYSTEM;
use super::{BOARD_SYSTEM, Issue, uk_core};

/// An answer, as the native use case takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub referral_id: String,
    pub information_request_id: Option<String>,
    pub text: String,
}

/// Where in the `Communication` each native field came from.
pub const ANSWER_PATH: &str = "Communication.payload[0].contentString";
pub const REQUEST_PATH: &str = "Communication.about[0].identifier.value";
pub const REFERRAL_PATH: &str = "Communication.basedOn[0].reference";

/// Whether the problems are about the body not being a Communication at all.
pub fn not_a_communication(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.code == "structure")
}

/// Parse a `Communication`, reporting every problem at once.
pub fn parse(body: &[u8]) -> Result<Answer, Vec<Issue>> {
    let resource: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Issue::new(
            "structure",
            "Communication",
            format!("not JSON: {e}"),
        )]
    })?;
    if resource.get("resourceType").and_then(Value::as_str) != Some("Communication") {
        return Err(vec![Issue::new(
            "structure",
            "Communication",
            "resourceType must be Communication",
        )]);
    }
    let mut issues = Vec::new();
    match resource.get("status").and_then(Value::as_str) {
        Some("completed") => {}
        _ => issues.push(Issue::new(
            "value",
            "Communication.status",
            "status must be completed: the answer has been given",
        )),
    }
    let referral_id = match resource
        .pointer("/basedOn/0/reference")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("ServiceRequest/"))
    {
        Some(id) if uuid::Uuid::parse_str(id).is_ok() => Some(id.to_owned()),
        _ => {
            issues.push(Issue::new(
                "required",
                REFERRAL_PATH,
                "basedOn[0] must be ServiceRequest/<referral id>, the id answered when the referral was sent",
            ));
            None
        }
    };
    let information_request_id = match resource.pointer("/about/0") {
        None => None,
        Some(about) => {
            let system = about.pointer("/identifier/system").and_then(Value::as_str);
            match about.pointer("/identifier/value").and_then(Value::as_str) {
                Some(value) if system == Some(INFORMATION_REQUEST_SYSTEM) => Some(value.to_owned()),
                _ => {
                    issues.push(Issue::new(
                        "value",
                        REQUEST_PATH,
                        format!(
                            "about[0] must be an identifier of the system {INFORMATION_REQUEST_SYSTEM}, as the Task's CommunicationRequest has it"
                        ),
                    ));
                    None
                }
            }
        }
    };
    let payloads = resource.get("payload").and_then(Value::as_array);
    let text = match payloads.map(Vec::as_slice) {
        Some([one]) => match one.get("contentString").and_then(Value::as_str) {
            Some(text) => Some(text.to_owned()),
            None => {
                issues.push(Issue::new(
                    "required",
                    ANSWER_PATH,
                    "the answer must be payload[0].contentString",
                ));
                None
            }
        },
        _ => {
            issues.push(Issue::new(
                "required",
                "Communication.payload",
                "exactly one payload, the answer as contentString",
            ));
            None
        }
    };
    match (referral_id, text) {
        (Some(referral_id), Some(text)) if issues.is_empty() => Ok(Answer {
            referral_id,
            information_request_id,
            text,
        }),
        _ => Err(issues),
    }
}

/// The `Communication` as recorded, answered to its sender: a
/// `UKCore-Communication` whose `recipient` is the board. It carries no
/// `subject`: the sender knows its patient.
pub fn recorded(
    referral_id: &str,
    board: &str,
    request_id: Option<&str>,
    text: &str,
    sent: DateTime<Utc>,
) -> Value {
    let mut recorded = json!({
        "resourceType": "Communication",
        "meta": {"profile": uk_core::profile(uk_core::COMMUNICATION)},
        "status": "completed",
        "basedOn": [{"reference": format!("ServiceRequest/{referral_id}")}],
        "sent": sent.to_rfc3339_opts(SecondsFormat::Millis, true),
        "recipient": [{"identifier": {"system": BOARD_SYSTEM, "value": board}}],
        "payload": [{"contentString": text.trim()}],
    });
    if let Some(id) = request_id {
        recorded["id"] = json!(id);
        recorded["about"] =
            json!([{"identifier": {"system": INFORMATION_REQUEST_SYSTEM, "value": id}}]);
    }
    recorded
}

#[cfg(test)]
#[path = "tests/communication.rs"]
mod tests;
