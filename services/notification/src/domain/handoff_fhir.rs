//! A hand-off to a FHIR route, with no I/O: the referral as intake gave it
//! for the hand-off (`crate::intake::handoff_document`) made into a FHIR R4
//! `transaction` Bundle for the route's base URL. It holds the `Patient`
//! (UK Core, identified by CHI in Scotland's CHI system) and the referral as
//! a UK Core `ServiceRequest` (`active`, `order`), identified by its Pathway
//! referral id, whose subject is that Patient.
//!
//! Both entries are conditional creates (`ifNoneExist` on the identifier):
//! a send in doubt is sent again, and the server then finds the Patient it
//! already has and the referral it already took rather than making
//! duplicates. The Bundle is the same on every attempt (its `urn:uuid`s are
//! derived from the referral id), and holds only what the referral says:
//! an element the referral leaves empty is left out, never filled in.
//!
//! Why it is handed on, the clinical summary and what the service must book
//! (an interpreter, British Sign Language, other accessibility needs) are
//! `ServiceRequest.note`s a person at the receiving service reads; the
//! interpreter need is also the core `patient-interpreterRequired`
//! extension, and the languages `Patient.communication`.

use pathway_proto::board::handoff::{REASON_BOARD_NOT_ON_PATHWAY, REASON_PAEDIATRIC};
use pathway_proto::fhir::{
    CHI_SYSTEM, PAIN_SERVICE, PAIN_SERVICE_SNOMED, PRACTICE_SYSTEM, REFERRAL_SYSTEM,
    SERVICE_SYSTEM, SNOMED_SYSTEM, uk_core,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::handoff::REASON_REDIRECT;

/// The media type FHIR R4 servers take.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The core R4 extension saying the patient needs an interpreter.
pub const INTERPRETER_REQUIRED: &str =
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired";
/// BCP-47, the code system of `Patient.communication.language`.
pub const LANGUAGE_SYSTEM: &str = "urn:ietf:bcp:47";
/// The accessibility need that is British Sign Language.
const BSL_NEED: &str = "british_sign_language";

/// Why and where a referral is handed on.
#[derive(Debug, Clone, Copy)]
pub struct HandedOn<'a> {
    /// `board_not_on_pathway`, `paediatric_patient` or `redirect`.
    pub reason: &'a str,
    /// The decision that redirected it, for a redirect.
    pub decision_id: Option<&'a str>,
    /// The route's name as the board's settings give it.
    pub service_name: Option<&'a str>,
}

/// The `transaction` Bundle that hands `referral` (intake's hand-off
/// document) on, as [`HandedOn`] says.
pub fn bundle(referral: &Value, handed_on: HandedOn<'_>) -> Value {
    let referral_id = text(&referral["id"]).unwrap_or_default();
    let patient_url = format!("urn:uuid:{}", derived_uuid("patient", &referral_id));
    let request_url = format!("urn:uuid:{}", derived_uuid("service-request", &referral_id));
    let patient = patient(&referral["patient"]);
    let chi = text(&referral["patient"]["chi"]);
    let mut entries = vec![entry(
        &patient_url,
        patient,
        "Patient",
        chi.map(|chi| format!("identifier={CHI_SYSTEM}|{chi}")),
    )];
    entries.push(entry(
        &request_url,
        service_request(referral, &referral_id, &patient_url, handed_on),
        "ServiceRequest",
        Some(format!("identifier={REFERRAL_SYSTEM}|{referral_id}")),
    ));
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": [uk_core::BUNDLE]},
        "type": "transaction",
        "entry": entries,
    })
}

/// What a FHIR server's `OperationOutcome` says went wrong, for a failed
/// delivery's reason: each issue's severity, code and words; `None` when
/// `body` is not an OperationOutcome.
pub fn outcome_text(body: &str) -> Option<String> {
    let outcome: Value = serde_json::from_str(body).ok()?;
    if outcome["resourceType"] != "OperationOutcome" {
        return None;
    }
    let issues: Vec<String> = outcome["issue"]
        .as_array()?
        .iter()
        .map(|issue| {
            let words = text(&issue["diagnostics"])
                .or_else(|| text(&issue["details"]["text"]))
                .unwrap_or_default();
            let place = issue["expression"]
                .as_array()
                .and_then(|e| e.first())
                .and_then(Value::as_str)
                .map(|at| format!(" at {at}"))
                .unwrap_or_default();
            format!(
                "{} {}{place}: {words}",
                issue["severity"].as_str().unwrap_or("error"),
                issue["code"].as_str().unwrap_or("unknown"),
            )
        })
        .collect();
    (!issues.is_empty()).then(|| issues.join("; "))
}

fn entry(full_url: &str, resource: Value, kind: &str, if_none_exist: Option<String>) -> Value {
    let mut request = json!({"method": "POST", "url": kind});
    if let Some(query) = if_none_exist {
        request["ifNoneExist"] = json!(query);
    }
    json!({"fullUrl": full_url, "resource": resource, "request": request})
}

fn patient(patient: &Value) -> Value {
    let contact = &patient["contact"];
    let address = &contact["address"];
    let lines = strings(&address["lines"]);
    let telecom: Vec<Value> = [
        text(&contact["mobile"]).map(|m| json!({"system": "phone", "use": "mobile", "value": m})),
        text(&contact["email"]).map(|e| json!({"system": "email", "value": e})),
    ]
    .into_iter()
    .flatten()
    .collect();
    let needs = strings(&patient["accessibility_needs"]);
    let interpreter = text(&patient["interpreter_language"]);
    let bsl = needs.iter().any(|n| n == BSL_NEED);
    let mut communication = Vec::new();
    if let Some(language) = text(&patient["preferred_language"]) {
        communication.push(json!({
            "language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": language}]},
            "preferred": true,
        }));
    }
    if let Some(language) = &interpreter {
        communication.push(json!({"language": {"text": language}}));
    }
    if bsl {
        communication.push(json!({
            "language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": "bfi", "display": "British Sign Language"}]},
        }));
    }
    let mut resource = json!({
        "resourceType": "Patient",
        "meta": {"profile": [uk_core::PATIENT]},
        "identifier": text(&patient["chi"]).map(|chi| json!([{"system": CHI_SYSTEM, "value": chi}])),
        "name": [{
            "use": "official",
            "family": text(&patient["family_name"]),
            "given": text(&patient["given_name"]).map(|g| json!([g])),
        }],
        "gender": text(&patient["sex"]).and_then(|sex| gender(&sex)),
        "birthDate": text(&patient["date_of_birth"]),
        "telecom": telecom,
        "address": [{
            "line": lines,
            "postalCode": text(&address["postcode"]).or_else(|| text(&patient["postcode"])),
        }],
        "communication": communication,
    });
    if interpreter.is_some() || bsl {
        resource["extension"] = json!([{"url": INTERPRETER_REQUIRED, "valueBoolean": true}]);
    }
    pruned(resource)
}

fn service_request(
    referral: &Value,
    referral_id: &str,
    patient_url: &str,
    handed_on: HandedOn<'_>,
) -> Value {
    let clinical = &referral["clinical"];
    let referrer = &referral["referrer"];
    let (snomed, snomed_display) = PAIN_SERVICE_SNOMED;
    let requester = text(&referrer["practice_code"]).map(|practice| {
        json!({
            "type": "Organization",
            "identifier": {"system": PRACTICE_SYSTEM, "value": practice},
            "display": text(&referrer["clinician_name"]),
        })
    });
    let resource = json!({
        "resourceType": "ServiceRequest",
        "meta": {"profile": [uk_core::SERVICE_REQUEST]},
        "identifier": [{"system": REFERRAL_SYSTEM, "value": referral_id}],
        "status": "active",
        "intent": "order",
        "code": {"coding": [
            {"system": SERVICE_SYSTEM, "code": PAIN_SERVICE, "display": "Chronic pain service"},
            {"system": SNOMED_SYSTEM, "code": snomed, "display": snomed_display},
        ]},
        "subject": {"reference": patient_url},
        "authoredOn": text(&referral["received_at"]),
        "requester": requester,
        "performer": handed_on.service_name.map(|name| json!([{"display": name}])),
        "reasonCode": summary(clinical).map(|s| json!([{"text": s}])),
        "note": notes(referral, handed_on)
            .into_iter()
            .map(|words| json!({"text": words}))
            .collect::<Vec<_>>(),
    });
    pruned(resource)
}

/// The pain in one line: how long, where, how bad.
fn summary(clinical: &Value) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(months) = clinical["pain_duration_months"].as_u64().filter(|m| *m > 0) {
        parts.push(format!("chronic pain for {months} months"));
    }
    let sites = words(&strings(&clinical["pain_sites"]));
    if !sites.is_empty() {
        parts.push(format!("sites: {}", sites.join(", ")));
    }
    if let Some(intensity) = clinical["pain_intensity"].as_u64() {
        parts.push(format!("intensity {intensity}/10"));
    }
    (!parts.is_empty()).then(|| capitalised(&parts.join("; ")))
}

fn notes(referral: &Value, handed_on: HandedOn<'_>) -> Vec<String> {
    let clinical = &referral["clinical"];
    let patient = &referral["patient"];
    let mut out = vec![why(handed_on)];
    let impact: Vec<String> = ["function", "sleep", "mood"]
        .into_iter()
        .filter_map(|part| Some(format!("{part} {}", text(&clinical["impact"][part])?)))
        .collect();
    if !impact.is_empty() {
        out.push(format!("Impact of the pain: {}.", impact.join(", ")));
    }
    let listed = [
        ("Red flags", "red_flags"),
        ("Current treatments", "current_treatments"),
        ("Previous treatments", "previous_treatments"),
    ];
    for (label, field) in listed {
        let items = words(&strings(&clinical[field]));
        if !items.is_empty() {
            out.push(format!("{label}: {}.", items.join("; ")));
        }
    }
    if let Some(question) = text(&clinical["question"]) {
        out.push(format!("The referrer asks: {question}"));
    }
    for asked in referral["information_requests"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(question) = text(&asked["question"]) {
            let answer = text(&asked["answer"]).unwrap_or_else(|| "(not answered)".into());
            out.push(format!(
                "Asked of the referrer: {question} Answer: {answer}"
            ));
        }
    }
    if let Some(language) = text(&patient["interpreter_language"]) {
        out.push(format!("Book an interpreter: {language}."));
    }
    let needs = words(&strings(&patient["accessibility_needs"]));
    if !needs.is_empty() {
        out.push(format!("Accessibility needs: {}.", needs.join(", ")));
    }
    out
}

/// Why the referral reaches this service, in words.
fn why(handed_on: HandedOn<'_>) -> String {
    let because = match handed_on.reason {
        REASON_BOARD_NOT_ON_PATHWAY => {
            "the patient's board is not on the remote chronic pain pathway".to_owned()
        }
        REASON_PAEDIATRIC => {
            "the patient is a child, for the board's paediatric service".to_owned()
        }
        REASON_REDIRECT => match handed_on.decision_id {
            Some(decision) => format!(
                "the pathway's vetting clinician redirected it to this service (decision {decision})"
            ),
            None => "the pathway's vetting clinician redirected it to this service".to_owned(),
        },
        other => format!("reason {other}"),
    };
    format!("Handed on by Pathway ({}): {because}.", handed_on.reason)
}

/// A stable UUID for one resource of one referral, so the Bundle is the same
/// on every attempt.
fn derived_uuid(what: &str, referral_id: &str) -> uuid::Uuid {
    let digest = Sha256::digest(format!("handoff-fhir:{what}:{referral_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect()
}

/// Codes as words: `lower_back` is "lower back".
fn words(codes: &[String]) -> Vec<String> {
    codes.iter().map(|code| code.replace('_', " ")).collect()
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// FHIR's administrative gender of intake's sex code.
fn gender(sex: &str) -> Option<&'static str> {
    match sex {
        "male" => Some("male"),
        "female" => Some("female"),
        "not_known" => Some("unknown"),
        _ => None,
    }
}

/// `value` without nulls, empty strings, arrays or objects: FHIR allows no
/// empty elements, and the Bundle says nothing the referral does not.
fn pruned(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (k, pruned(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(pruned)
                .filter(|v| !is_empty(v))
                .collect(),
        ),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
#[path = "tests/handoff_fhir.rs"]
mod tests;
