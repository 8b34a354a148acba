//! Every resource Pathway emits that UK Core profiles declares the profile
//! and has what R4 and the profile ask of it: R4's mandatory elements, and
//! each must-support element Pathway knows of. What is left out on purpose
//! is checked to stay out. (No profile validator runs offline; these
//! assertions are the check.)

use chrono::{TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::domain::Status;
use crate::domain::fhir::task::{DecisionCodes, OpenQuestion, TaskFacts};
use crate::domain::fhir::{
    BOARD_SYSTEM, PRACTICE_SYSTEM, SNOMED_SYSTEM, communication, questionnaire, service_request,
    task,
};

const ID: &str = "0190d5a8-2f7e-7c1e-9a4b-1f2e3d4c5b6a";

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("a time")
}

/// `resource` declares `url` in `meta.profile`, has every element of
/// `present` (JSON pointers) and none of `absent`.
fn conforms(resource: &Value, url: &str, present: &[&str], absent: &[&str]) {
    assert_eq!(resource["meta"]["profile"], profile(url), "{resource}");
    for pointer in present {
        let found = resource.pointer(pointer);
        assert!(
            found.is_some_and(|v| !v.is_null() && v != "" && v != &Value::Array(vec![])),
            "{url}: {pointer} missing in {resource}"
        );
    }
    for pointer in absent {
        assert!(
            resource.pointer(pointer).is_none(),
            "{url}: {pointer} is left out on purpose, found in {resource}"
        );
    }
}

#[test]
fn the_service_request_follows_uk_core_service_request() {
    let resource = service_request::resource(&service_request::Received {
        referral_id: ID,
        board: "highland",
        status: "awaiting_vetting",
        route: "pathway",
        received_at: at(),
        version: 1,
    });
    conforms(
        &resource,
        SERVICE_REQUEST,
        // R4: status, intent, subject; UK Core must-support: code,
        // authoredOn (requester and category Pathway does not keep).
        &[
            "/status",
            "/intent",
            "/subject",
            "/code/coding/0/code",
            "/authoredOn",
            "/performer/0/identifier/value",
            "/identifier/0/value",
        ],
        &["/subject/identifier", "/subject/reference"],
    );
    assert_eq!(resource["id"], ID);
    assert_eq!(resource["status"], "active");
    assert_eq!(resource["intent"], "order");
    assert_eq!(
        resource["performer"][0]["identifier"]["system"],
        BOARD_SYSTEM
    );
    let snomed = resource["code"]["coding"]
        .as_array()
        .expect("codings")
        .iter()
        .find(|c| c["system"] == SNOMED_SYSTEM)
        .expect("the service in SNOMED CT, of UK Core's preferred kind");
    assert_eq!(snomed["code"], "310071006");
}

fn facts(status: Status, outcome: Option<&str>) -> TaskFacts {
    TaskFacts {
        referral_id: ID.into(),
        board: "highland".into(),
        practice_code: "55123".into(),
        status,
        received_at: at(),
        updated_at: at(),
        version: 4,
        decision: outcome.map(|o| DecisionCodes {
            outcome: Some(o.into()),
            priority: Some("routine".into()),
            mode: Some("in_person".into()),
        }),
        open_questions: vec![OpenQuestion {
            id: "q-1".into(),
            requested_at: at(),
            question: Some("Which analgesics were tried?".into()),
        }],
        first_appointment: None,
    }
}

#[test]
fn every_task_follows_uk_core_task() {
    let cases = [
        (Status::AwaitingVetting, None),
        (Status::InfoRequested, None),
        (Status::Decided, Some("accept")),
        (Status::Notified, Some("decline")),
        (Status::Seen, Some("accept")),
        (Status::Withdrawn, None),
    ];
    for (status, outcome) in cases {
        let resource = task::resource(&facts(status, outcome));
        conforms(
            &resource,
            TASK,
            // R4: status, intent; UK Core must-support: code, focus,
            // authoredOn, requester, owner.
            &[
                "/status",
                "/intent",
                "/code/coding/0/code",
                "/focus/reference",
                "/authoredOn",
                "/requester/identifier/value",
                "/owner/identifier/value",
                "/meta/versionId",
            ],
            // UK Core's must-support `for`: the Task names no patient.
            &["/for"],
        );
        assert_eq!(
            resource["requester"]["identifier"]["system"],
            PRACTICE_SYSTEM
        );
        assert_eq!(resource["owner"]["identifier"]["system"], BOARD_SYSTEM);
    }
    // A question waiting: the Task's input (must-support) refers to it.
    let on_hold = task::resource(&facts(Status::InfoRequested, None));
    assert_eq!(
        on_hold["input"][0]["valueReference"]["reference"],
        "#information-request-1"
    );
    // UK Core has no CommunicationRequest profile: the contained one
    // declares none, and has R4's status.
    let contained = &on_hold["contained"][0];
    assert_eq!(contained["resourceType"], "CommunicationRequest");
    assert_eq!(contained["status"], "active");
    assert!(contained.get("meta").is_none(), "{contained}");
}

#[test]
fn the_questionnaire_follows_uk_core_questionnaire() {
    let resource = questionnaire::resource();
    // R4: status; UK Core must-support: url, title, status, subjectType,
    // item and each item's linkId, text and type.
    conforms(
        &resource,
        QUESTIONNAIRE,
        &["/url", "/title", "/status", "/subjectType/0", "/item/0"],
        &[],
    );
    for item in resource["item"].as_array().expect("items") {
        for element in ["linkId", "text", "type"] {
            assert!(
                item[element].as_str().is_some_and(|v| !v.is_empty()),
                "{element} of {item}"
            );
        }
    }
}

#[test]
fn the_recorded_communication_follows_uk_core_communication() {
    let resource = communication::recorded(
        ID,
        "highland",
        Some("q-1"),
        "  Amitriptyline 10 mg, stopped for drowsiness ",
        at(),
    );
    conforms(
        &resource,
        COMMUNICATION,
        // R4: status.
        &[
            "/status",
            "/basedOn/0/reference",
            "/about/0/identifier/value",
            "/recipient/0/identifier/value",
            "/payload/0/contentString",
            "/sent",
        ],
        // UK Core's must-support `subject`: the answer names no patient.
        &["/subject"],
    );
    assert_eq!(resource["status"], "completed");
    assert_eq!(
        resource["payload"][0]["contentString"],
        "Amitriptyline 10 mg, stopped for drowsiness"
    );
}

#[test]
fn each_profile_is_a_uk_core_canonical_url() {
    for (url, name) in [
        (SERVICE_REQUEST, "ServiceRequest"),
        (TASK, "Task"),
        (QUESTIONNAIRE, "Questionnaire"),
        (COMMUNICATION, "Communication"),
        (OPERATION_OUTCOME, "OperationOutcome"),
        (BUNDLE, "Bundle"),
        (APPOINTMENT, "Appointment"),
    ] {
        assert_eq!(
            url,
            format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{name}")
        );
    }
}
