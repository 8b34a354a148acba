use chrono::{TimeZone, Utc};

use super::*;

fn facts(status: Status, outcome: Option<&str>) -> TaskFacts {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("a time");
    TaskFacts {
        referral_id: "0190d5a8-2f7e-7c1e-9a4b-1f2e3d4c5b6a".into(),
        board: "highland".into(),
        practice_code: "55123".into(),
        status,
        received_at: at,
        updated_at: at,
        version: 3,
        decision: outcome.map(|o| DecisionCodes {
            outcome: Some(o.into()),
            priority: Some("urgent".into()),
            mode: Some("video".into()),
        }),
        open_questions: vec![OpenQuestion {
            id: "q-1".into(),
            requested_at: at,
            question: Some("Which analgesics were tried?".into()),
        }],
    }
}

#[test]
fn every_status_maps_to_the_fhir_status_of_the_same_meaning() {
    let cases = [
        (Status::AwaitingVetting, None, "requested"),
        (Status::InVetting, None, "received"),
        (Status::Vetted, None, "received"),
        (Status::InfoRequested, None, "on-hold"),
        (Status::AwaitingOptIn, Some("patient_opt_in"), "on-hold"),
        (Status::Decided, Some("accept"), "accepted"),
        (Status::Decided, Some("physiotherapy"), "accepted"),
        (Status::Decided, Some("decline"), "rejected"),
        (Status::Decided, Some("advice_to_referrer"), "rejected"),
        (Status::Notified, Some("accept"), "completed"),
        (Status::Notified, Some("redirect"), "rejected"),
        (Status::Closed, Some("patient_opt_in"), "completed"),
        (Status::RoutedStandard, None, "completed"),
        (Status::Withdrawn, None, "cancelled"),
    ];
    for (status, outcome, expected) in cases {
        assert_eq!(
            task_status(status, outcome),
            expected,
            "{status} {outcome:?}"
        );
    }
}

#[test]
fn an_accepted_task_carries_outcome_priority_and_mode_and_the_version() {
    let task = resource(&facts(Status::Decided, Some("accept")));
    assert_eq!(task["status"], "accepted");
    assert_eq!(task["meta"]["versionId"], "3");
    assert_eq!(
        task["focus"]["reference"],
        "ServiceRequest/0190d5a8-2f7e-7c1e-9a4b-1f2e3d4c5b6a"
    );
    let codes: Vec<_> = task["businessStatus"]["coding"]
        .as_array()
        .expect("codings")
        .iter()
        .map(|c| c["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(codes, ["decided", "accept", "urgent", "video"]);
    assert!(task.get("for").is_none(), "no patient in the Task");
    assert!(task.get("contained").is_none());
}

#[test]
fn an_on_hold_task_holds_the_question_as_a_contained_request() {
    let task = resource(&facts(Status::InfoRequested, None));
    assert_eq!(task["status"], "on-hold");
    assert_eq!(
        task["input"][0]["valueReference"]["reference"],
        "#information-request-1"
    );
    let request = &task["contained"][0];
    assert_eq!(request["resourceType"], "CommunicationRequest");
    assert_eq!(request["identifier"][0]["value"], "q-1");
    assert_eq!(
        request["payload"][0]["contentString"],
        "Which analgesics were tried?"
    );
}
