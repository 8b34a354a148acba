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
        first_appointment: None,
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
        (Status::Notified, Some("accept"), "accepted"),
        (Status::Seen, Some("accept"), "completed"),
        (Status::Seen, Some("pain_psychology"), "completed"),
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

fn first(happened: Happened, day: u32, minute: u32) -> FirstAppointment {
    FirstAppointment {
        happened,
        day: chrono::NaiveDate::from_ymd_opt(2026, 9, day),
        updated_at: Utc
            .with_ymd_and_hms(2026, 9, 1, 9, minute, 0)
            .single()
            .expect("a time"),
    }
}

#[test]
fn the_first_appointment_shows_in_the_business_status() {
    let mut booked = facts(Status::Notified, Some("accept"));
    booked.first_appointment = Some(first(Happened::Booked, 10, 0));
    let task = resource(&booked);
    assert_eq!(task["status"], "accepted");
    assert_eq!(
        task["businessStatus"]["text"],
        "notified, accept, urgent, video, first appointment booked for 10 September 2026"
    );
    let last = &task["businessStatus"]["coding"][4];
    assert_eq!(
        last["system"],
        "https://pathway.scot.nhs.uk/fhir/CodeSystem/first-appointment"
    );
    assert_eq!(last["code"], "booked");

    let mut seen = facts(Status::Seen, Some("accept"));
    seen.first_appointment = Some(first(Happened::Attended, 10, 5));
    let task = resource(&seen);
    assert_eq!(task["status"], "completed");
    assert_eq!(
        task["businessStatus"]["text"],
        "seen, accept, urgent, video, first appointment attended on 10 September 2026"
    );

    let mut missed = facts(Status::Decided, Some("accept"));
    missed.first_appointment = Some(first(Happened::DidNotAttend, 3, 5));
    let task = resource(&missed);
    assert_eq!(task["status"], "accepted", "still waiting: {task}");
    assert!(
        task["businessStatus"]["text"]
            .as_str()
            .unwrap_or_default()
            .ends_with(
                "first appointment on 3 September 2026 not attended; awaiting a new appointment"
            ),
        "{task}"
    );
}

#[test]
fn the_task_tells_of_the_attended_then_the_booked_then_the_latest_appointment() {
    let cancelled_late = first(Happened::Cancelled, 3, 9);
    let booked = first(Happened::Booked, 17, 5);
    assert_eq!(
        FirstAppointment::current([cancelled_late, booked]),
        Some(booked)
    );
    let attended = first(Happened::Attended, 17, 6);
    assert_eq!(
        FirstAppointment::current([booked, attended, cancelled_late]),
        Some(attended)
    );
    let missed = first(Happened::DidNotAttend, 3, 1);
    assert_eq!(
        FirstAppointment::current([missed, cancelled_late]),
        Some(cancelled_late)
    );
    assert_eq!(FirstAppointment::current([]), None);
}
