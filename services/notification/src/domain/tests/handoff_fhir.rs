//! Unit tests of `domain/handoff_fhir.rs`: the transaction Bundle a FHIR
//! route is sent, built from a sample hand-off document.

use serde_json::{Value, json};

use super::{HandedOn, bundle, outcome_text};

const REFERRAL_ID: &str = "0190f5a4-2b3c-7d4e-8f00-1234567890ab";

fn referral() -> Value {
    json!({
        "id": REFERRAL_ID,
        "route": "standard",
        "received_at": "2026-11-27T10:15:00+00:00",
        "re_referral": false,
        "patient": {
            "chi": "0101701234",
            "given_name": "Morag",
            "family_name": "MacLeod",
            "date_of_birth": "1970-01-01",
            "sex": "female",
            "postcode": "IV2 3UJ",
            "contact": {
                "preferred": "sms",
                "mobile": "07700900123",
                "email": "",
                "address": {"lines": ["1 High Street", "Inverness"], "postcode": "IV2 3UJ"},
            },
            "accessibility_needs": ["british_sign_language"],
            "interpreter_language": null,
            "preferred_language": null,
        },
        "referrer": {
            "practice_code": "55005",
            "clinician_name": "Dr A Practitioner",
            "reply": {"channel": "webhook", "address": "https://gp.example/in"},
        },
        "clinical": {
            "pain_duration_months": 9,
            "pain_sites": ["lower_back"],
            "pain_intensity": 7,
            "impact": {"function": "moderate", "sleep": "severe", "mood": "mild"},
            "red_flags": [],
            "current_treatments": ["paracetamol"],
            "previous_treatments": [],
            "question": "Is a pain management programme suitable?",
        },
        "information_requests": [],
    })
}

fn handed_on() -> HandedOn<'static> {
    HandedOn {
        reason: "board_not_on_pathway",
        decision_id: None,
        service_name: Some("NHS Fife MSK service"),
    }
}

fn resource<'a>(bundle: &'a Value, kind: &str) -> &'a Value {
    bundle["entry"]
        .as_array()
        .and_then(|entries| {
            entries
                .iter()
                .find(|e| e["resource"]["resourceType"] == kind)
        })
        .map(|e| &e["resource"])
        .unwrap_or_else(|| panic!("a {kind} in {bundle}"))
}

fn all_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| all_strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| all_strings(v, out)),
        _ => {}
    }
}

#[test]
fn the_bundle_is_a_transaction_of_the_patient_and_an_active_order() {
    let sent = bundle(&referral(), handed_on());
    assert_eq!(sent["resourceType"], "Bundle");
    assert_eq!(sent["type"], "transaction");
    let entries = sent["entry"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{sent}");
    for entry in entries {
        assert_eq!(entry["request"]["method"], "POST", "{entry}");
        assert!(
            entry["fullUrl"]
                .as_str()
                .is_some_and(|u| u.starts_with("urn:uuid:")),
            "{entry}"
        );
    }
    let request = resource(&sent, "ServiceRequest");
    assert_eq!(request["status"], "active");
    assert_eq!(request["intent"], "order");
    assert_eq!(
        request["meta"]["profile"][0],
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
    );
    assert_eq!(
        request["identifier"][0],
        json!({"system": "https://pathway.scot.nhs.uk/fhir/Id/referral", "value": REFERRAL_ID})
    );
    // The subject is the Patient of the same Bundle.
    let patient_entry = &entries[0];
    assert_eq!(patient_entry["resource"]["resourceType"], "Patient");
    assert_eq!(request["subject"]["reference"], patient_entry["fullUrl"]);
    assert_eq!(
        request["requester"]["identifier"]["value"], "55005",
        "{request}"
    );
    assert_eq!(request["requester"]["display"], "Dr A Practitioner");
    assert_eq!(request["performer"][0]["display"], "NHS Fife MSK service");
    assert_eq!(request["authoredOn"], "2026-11-27T10:15:00+00:00");
    let reason = request["reasonCode"][0]["text"].as_str().expect("a reason");
    assert!(
        reason.contains("9 months") && reason.contains("lower back"),
        "{reason}"
    );
    let notes: Vec<&str> = request["note"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert!(
        notes[0].contains("board_not_on_pathway") && notes[0].contains("not on the remote"),
        "why it is handed on comes first: {notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("pain management programme")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("british sign language")),
        "{notes:?}"
    );
}

#[test]
fn the_patient_is_named_by_chi_in_scotlands_system_and_needs_are_carried() {
    let sent = bundle(&referral(), handed_on());
    let patient = resource(&sent, "Patient");
    assert_eq!(
        patient["identifier"],
        json!([{"system": "urn:oid:2.16.840.1.113883.2.1.3.2.4.16.53", "value": "0101701234"}])
    );
    assert_eq!(patient["gender"], "female");
    assert_eq!(patient["birthDate"], "1970-01-01");
    assert_eq!(patient["name"][0]["family"], "MacLeod");
    assert_eq!(patient["address"][0]["postalCode"], "IV2 3UJ");
    assert_eq!(
        patient["extension"],
        json!([{"url": super::INTERPRETER_REQUIRED, "valueBoolean": true}]),
        "BSL needs an interpreter booked"
    );
    assert_eq!(
        patient["communication"][0]["language"]["coding"][0]["code"],
        "bfi"
    );
    // Conditional creates, so a send in doubt sent again makes no duplicate.
    let entries = sent["entry"].as_array().expect("entries");
    assert_eq!(
        entries[0]["request"]["ifNoneExist"],
        "identifier=urn:oid:2.16.840.1.113883.2.1.3.2.4.16.53|0101701234"
    );
    assert_eq!(
        entries[1]["request"]["ifNoneExist"],
        format!("identifier=https://pathway.scot.nhs.uk/fhir/Id/referral|{REFERRAL_ID}")
    );
    // The same Bundle on every attempt.
    assert_eq!(sent, bundle(&referral(), handed_on()));
}

#[test]
fn nothing_is_said_that_the_referral_does_not_say() {
    let sent = bundle(&referral(), handed_on());
    let patient = resource(&sent, "Patient");
    // No e-mail, no written-language preference, no interpreter language.
    let telecom = patient["telecom"].as_array().expect("telecom");
    assert_eq!(telecom.len(), 1, "{telecom:?}");
    assert_eq!(telecom[0]["value"], "07700900123");
    assert_eq!(patient["communication"].as_array().map(Vec::len), Some(1));
    let mut strings = Vec::new();
    all_strings(&sent, &mut strings);
    assert!(strings.iter().all(|s| !s.is_empty()), "no empty elements");
    let request = resource(&sent, "ServiceRequest");
    let notes = request["note"].to_string();
    assert!(!notes.contains("Red flags"), "none were ticked: {notes}");
    assert!(!notes.contains("Previous treatments"), "{notes}");
    assert!(!notes.contains("interpreter:"), "{notes}");
    // Nothing null or empty anywhere.
    assert!(!sent.to_string().contains("null"), "{sent}");
    assert!(!sent.to_string().contains("[]"), "{sent}");
    assert!(!sent.to_string().contains("{}"), "{sent}");
}

#[test]
fn a_redirect_names_its_decision_and_an_interpreter_language_is_booked() {
    let mut referral = referral();
    referral["patient"]["interpreter_language"] = json!("Polish");
    referral["patient"]["accessibility_needs"] = json!([]);
    let sent = bundle(
        &referral,
        HandedOn {
            reason: "redirect",
            decision_id: Some("d-1"),
            service_name: None,
        },
    );
    let request = resource(&sent, "ServiceRequest");
    assert!(request.get("performer").is_none(), "{request}");
    let notes = request["note"].to_string();
    assert!(
        notes.contains("redirected") && notes.contains("d-1"),
        "{notes}"
    );
    assert!(notes.contains("Book an interpreter: Polish."), "{notes}");
    let patient = resource(&sent, "Patient");
    assert_eq!(patient["communication"][0]["language"]["text"], "Polish");
    assert_eq!(patient["extension"][0]["valueBoolean"], true);
}

#[test]
fn an_operation_outcome_is_read_into_words() {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "required",
            "diagnostics": "ServiceRequest.subject is required",
            "expression": ["Bundle.entry[1].resource.subject"]}],
    })
    .to_string();
    assert_eq!(
        outcome_text(&body).as_deref(),
        Some(
            "error required at Bundle.entry[1].resource.subject: ServiceRequest.subject is required"
        )
    );
    assert_eq!(outcome_text("<html>Bad request</html>"), None);
    assert_eq!(outcome_text(r#"{"resourceType":"Patient"}"#), None);
}
