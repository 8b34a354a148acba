//! The round trip a GP system's developer follows in the README, as FHIR
//! R4 from end to end: the example referral posted, its `Task` read as a
//! clinician vets it (requested → received → on-hold → requested →
//! received → accepted), the question answered as a `Communication`, the
//! referrer told (still accepted: the pathway's part ends at the first
//! appointment), the hospital system's first appointments (booked, missed,
//! booked again, attended) shown in `businessStatus`, and the attended one
//! closing the referral (`seen`, Task `completed`). Also: declined is
//! rejected, withdrawn is cancelled, only its referrer and the board's
//! clinicians read it. Every resource received is validated as FHIR R4
//! ([`super::fhir_task::validate`]).

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use super::fhir_task::{
    PRACTICE_SYSTEM, Stack, answer_to, business_codes, expressions, fhir, get, post_communication,
    repository, task, task_when, validate,
};

/// Wait until the Task of `id` is as `wanted` says, and return it.
async fn task_until(
    app: &TestApp,
    token: &str,
    id: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let found = eventually(Duration::from_secs(10), || async {
        let task = task(app, token, id).await;
        wanted(&task).then_some(task)
    })
    .await;
    found.unwrap_or_else(|| panic!("the Task of {id} never became as expected"))
}

/// A first appointment at the pain clinic for referral `id`.
fn appointment(id: &str, appointment_id: &str, status: &str, start: &str) -> Value {
    json!({
        "resourceType": "Appointment",
        "identifier": [{"system": "https://pas.highland.scot.nhs.uk/Id/appointment", "value": appointment_id}],
        "status": status,
        "serviceType": [{"coding": [{"system": "https://pathway.scot.nhs.uk/fhir/CodeSystem/clinic-type", "code": "pain-clinic"}]}],
        "appointmentType": {"coding": [{"system": "https://pathway.scot.nhs.uk/fhir/CodeSystem/appointment-type", "code": "first"}]},
        "start": start,
        "basedOn": [{"reference": format!("ServiceRequest/{id}")}],
        "participant": [{"status": "accepted", "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "ATND"}]}]}],
    })
}

async fn post_appointment(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(format!("{}/fhir/Appointment", app.base))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .json(body)
        .send()
        .await
        .expect("intake answers")
}

#[tokio::test]
async fn a_referral_goes_round_from_the_gp_to_its_first_appointment() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let mut decision =
            pathway_tests::decision::TestApp::spawn_beside(&backend, &stack.intake).await;
        let app = &stack.intake;
        let referrer = app.token(Role::Referrer, &["highland"]);
        let dr = app.token_for("dr-a", Role::Clinician, &["highland"]);
        let mut emitted = Vec::new();

        // Sent as FHIR: the answer is the ServiceRequest the Task points at.
        let bundle = std::fs::read(repository().join("examples/referral.fhir.json"))
            .expect("examples/referral.fhir.json");
        let (status, service_request) = fhir(
            app.http
                .post(format!("{}/fhir/Bundle", app.base))
                .bearer_auth(&referrer)
                .header("content-type", "application/fhir+json")
                .body(bundle)
                .send()
                .await
                .expect("intake answers"),
        )
        .await;
        assert_eq!(status, 201, "{service_request}");
        let id = service_request["id"].as_str().expect("an id").to_owned();
        emitted.push(service_request);
        stack.vetting.wait_for_referral("highland", &id).await;

        let requested = task(app, &referrer, &id).await;
        assert_eq!(requested["status"], "requested", "{requested}");
        assert_eq!(
            requested["focus"]["reference"],
            format!("ServiceRequest/{id}")
        );
        assert_eq!(requested["intent"], "order");
        assert!(requested.get("for").is_none(), "no patient in the Task");
        assert_eq!(
            requested["requester"]["identifier"]["system"],
            PRACTICE_SYSTEM
        );
        assert_eq!(business_codes(&requested), ["awaiting_vetting"]);
        // meta.versionId is the native ETag.
        let native = app.get_referral(&referrer, &id).await;
        let etag = native
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        assert_eq!(requested["meta"]["versionId"], etag.as_str());
        emitted.push(requested);

        // Claimed: received.
        let claimed = stack
            .vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        emitted.push(task_when(app, &referrer, &id, "received").await);

        // Nothing to answer yet.
        let early = post_communication(app, &referrer, None, &answer_to(&id, None, "early")).await;
        let (status, outcome) = fhir(early).await;
        assert_eq!(status, 409, "{outcome}");
        emitted.push(outcome);

        // A question: on-hold, the question a contained CommunicationRequest.
        let asked = stack
            .vetting
            .post(
                &format!("/v1/referrals/{id}/information-requests"),
                &dr,
                &json!({"question": "Any imaging of the lumbar spine?"}),
            )
            .await;
        assert_eq!(asked.status(), 201);
        let on_hold = task_when(app, &referrer, &id, "on-hold").await;
        assert_eq!(business_codes(&on_hold), ["info_requested"]);
        let request = &on_hold["contained"][0];
        assert_eq!(request["resourceType"], "CommunicationRequest");
        assert_eq!(
            request["payload"][0]["contentString"],
            "Any imaging of the lumbar spine?"
        );
        assert_eq!(
            on_hold["input"][0]["valueReference"]["reference"],
            format!("#{}", request["id"].as_str().unwrap_or_default())
        );
        let question = request["identifier"][0]["value"]
            .as_str()
            .expect("the question's id")
            .to_owned();
        let version = on_hold["meta"]["versionId"]
            .as_str()
            .expect("a version")
            .to_owned();
        emitted.push(on_hold.clone());

        // Bad answers are named, and change nothing.
        let mut bad = answer_to(&id, Some("not-a-question"), "x");
        bad["payload"] = json!([{"contentString": "   "}]);
        let (status, outcome) = fhir(post_communication(app, &referrer, None, &bad).await).await;
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            expressions(&outcome),
            ["Communication.payload[0].contentString"]
        );
        emitted.push(outcome);
        let (status, outcome) = fhir(
            post_communication(
                app,
                &referrer,
                None,
                &answer_to(&id, Some("not-a-question"), "MRI in March."),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            expressions(&outcome),
            ["Communication.about[0].identifier.value"]
        );
        emitted.push(outcome);
        let (status, outcome) = fhir(
            post_communication(
                app,
                &referrer,
                Some("W/\"1\""),
                &answer_to(&id, Some(&question), "MRI in March."),
            )
            .await,
        )
        .await;
        assert_eq!(status, 412, "a stale version: {outcome}");
        emitted.push(outcome);
        let (status, outcome) = fhir(
            post_communication(
                app,
                &dr,
                None,
                &answer_to(&id, Some(&question), "MRI in March."),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "a clinician does not answer: {outcome}");
        emitted.push(outcome);
        assert_eq!(task(app, &referrer, &id).await["status"], "on-hold");

        // The answer as a Communication: the same use case as the native one.
        let (status, communication) = fhir(
            post_communication(
                app,
                &referrer,
                Some(&format!("W/\"{version}\"")),
                &answer_to(
                    &id,
                    Some(&question),
                    "MRI in March showed no nerve root compression.",
                ),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{communication}");
        assert_eq!(
            communication["about"][0]["identifier"]["value"],
            question.as_str()
        );
        emitted.push(communication);
        let back = task(app, &referrer, &id).await;
        assert_eq!(back["status"], "requested", "{back}");
        assert!(back.get("contained").is_none());
        let view: Value = app
            .get_referral(&referrer, &id)
            .await
            .json()
            .await
            .expect("the native view");
        assert_eq!(view["status"], "awaiting_vetting");
        assert_eq!(
            view["information_requests"][0]["answer"],
            "MRI in March showed no nerve root compression."
        );
        let row = stack
            .vetting
            .wait_for_status("highland", &id, "awaiting_vetting")
            .await;
        assert_eq!(row["answer_received"], true, "vetting heard the answer");

        // Claimed again and accepted, urgent, by video: accepted.
        let claimed = stack
            .vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        task_when(app, &referrer, &id, "received").await;
        let recorded = stack
            .vetting
            .post(
                &format!("/v1/referrals/{id}/outcome"),
                &dr,
                &json!({"outcome": "accept", "priority": "urgent", "mode": "video", "rationale": "The clinic should see her."}),
            )
            .await;
        assert_eq!(recorded.status(), 201);
        let accepted = task_when(app, &dr, &id, "accepted").await;
        assert_eq!(
            business_codes(&accepted),
            ["decided", "accept", "urgent", "video"]
        );
        emitted.push(accepted);

        // The referrer told: still accepted, waiting for the first appointment.
        let sent = Event::new(
            "highland",
            Some(uuid::Uuid::parse_str(&id).expect("a UUID")),
            "notification",
            chrono::Utc::now(),
            Payload::NotificationSent(proto::NotificationSent {
                delivery_id: uuid::Uuid::now_v7().to_string(),
                recipient: proto::Recipient::Referrer as i32,
                channel: proto::Channel::Email as i32,
                cause_event_id: String::new(),
            }),
        );
        app.publish(&sent, &sent.event_id).await;
        let notified = task_until(app, &referrer, &id, |t| {
            business_codes(t).first().is_some_and(|c| c == "notified")
        })
        .await;
        assert_eq!(notified["status"], "accepted", "{notified}");
        assert_eq!(
            business_codes(&notified),
            ["notified", "accept", "urgent", "video"]
        );
        emitted.push(notified.clone());

        // The hospital system books the first appointment, the patient
        // misses it: still accepted, awaiting a new appointment.
        let pas = app.token_for("pas-highland", Role::HospitalSystem, &["highland"]);
        let missed_start = "2026-09-03T14:00:00+01:00";
        for status in ["booked", "noshow"] {
            let answer = post_appointment(
                app,
                &pas,
                &appointment(&id, "RAIG-2026-000122", status, missed_start),
            )
            .await;
            assert!(
                answer.status().is_success(),
                "{status}: {}",
                answer.status()
            );
        }
        let missed = task_until(app, &referrer, &id, |t| {
            business_codes(t)
                .last()
                .is_some_and(|c| c == "did_not_attend")
        })
        .await;
        assert_eq!(missed["status"], "accepted", "{missed}");
        assert_eq!(
            missed["businessStatus"]["text"],
            "notified, accept, urgent, video, first appointment on 3 September 2026 not attended; awaiting a new appointment"
        );
        assert_ne!(
            missed["meta"]["versionId"], notified["meta"]["versionId"],
            "a GP system polling by _lastUpdated hears of it"
        );
        emitted.push(missed);

        // A new first appointment booked: it shows in businessStatus.
        let example: Value = serde_json::from_slice(
            &std::fs::read(repository().join("examples/appointment.fhir.json"))
                .expect("examples/appointment.fhir.json"),
        )
        .expect("the example is JSON");
        let mut booked = example.clone();
        booked["status"] = json!("booked");
        booked["basedOn"] = json!([{"reference": format!("ServiceRequest/{id}")}]);
        let answer = post_appointment(app, &pas, &booked).await;
        assert_eq!(answer.status(), 201);
        let booked_task = task_until(app, &referrer, &id, |t| {
            business_codes(t).last().is_some_and(|c| c == "booked")
        })
        .await;
        assert_eq!(booked_task["status"], "accepted", "{booked_task}");
        assert_eq!(
            booked_task["businessStatus"]["text"],
            "notified, accept, urgent, video, first appointment booked for 10 September 2026"
        );
        emitted.push(booked_task);

        // The example as it stands, fulfilled: the referral is seen and the
        // Task completed, in the same transaction as the appointment.
        let mut fulfilled = example;
        fulfilled["basedOn"] = json!([{"reference": format!("ServiceRequest/{id}")}]);
        let answer = post_appointment(app, &pas, &fulfilled).await;
        assert_eq!(answer.status(), 200, "the same appointment, now attended");
        let completed = task(app, &referrer, &id).await;
        assert_eq!(completed["status"], "completed", "{completed}");
        assert_eq!(
            business_codes(&completed),
            ["seen", "accept", "urgent", "video", "attended"]
        );
        assert_eq!(
            completed["businessStatus"]["text"],
            "seen, accept, urgent, video, first appointment attended on 10 September 2026"
        );
        let view: Value = app
            .get_referral(&referrer, &id)
            .await
            .json()
            .await
            .expect("the native view");
        assert_eq!(view["status"], "seen");
        emitted.push(completed.clone());
        // Nothing reopens it: a late notice leaves it seen.
        let late = Event::new(
            "highland",
            Some(uuid::Uuid::parse_str(&id).expect("a UUID")),
            "notification",
            chrono::Utc::now(),
            Payload::NotificationSent(proto::NotificationSent {
                delivery_id: uuid::Uuid::now_v7().to_string(),
                recipient: proto::Recipient::Patient as i32,
                channel: proto::Channel::Email as i32,
                cause_event_id: String::new(),
            }),
        );
        app.publish(&late, &late.event_id).await;
        let heard = eventually(Duration::from_secs(10), || async {
            let view: Value = app.get_referral(&referrer, &id).await.json().await.ok()?;
            let notices = view["history"]
                .as_array()?
                .iter()
                .filter(|h| h["event"] == "notification.sent")
                .count();
            (notices == 2).then_some(view)
        })
        .await
        .expect("intake records the late notice");
        assert_eq!(heard["status"], "seen", "{heard}");
        assert_eq!(task(app, &referrer, &id).await["status"], "completed");

        // Declined: rejected.
        let declined_id = app.refer(&valid_referral("highland")).await;
        stack
            .vetting
            .wait_for_referral("highland", &declined_id)
            .await;
        let claimed = stack
            .vetting
            .post_empty(&format!("/v1/referrals/{declined_id}/claim"), &dr)
            .await;
        assert_eq!(claimed.status(), 200);
        let recorded = stack
            .vetting
            .post(
                &format!("/v1/referrals/{declined_id}/outcome"),
                &dr,
                &json!({"outcome": "decline", "reason": "not chronic pain", "rejection_reason": "02", "rationale": "Acute injury."}),
            )
            .await;
        assert_eq!(recorded.status(), 201);
        let rejected = task_when(app, &referrer, &declined_id, "rejected").await;
        assert_eq!(business_codes(&rejected), ["decided", "decline"]);
        emitted.push(rejected);

        // Withdrawn: cancelled.
        let withdrawn_id = app.refer(&valid_referral("highland")).await;
        let withdrawn = app
            .referral_action(
                &referrer,
                &withdrawn_id,
                "withdraw",
                &json!({"reason_code": "sent_in_error"}),
            )
            .await;
        assert_eq!(withdrawn.status(), 200);
        emitted.push(task_when(app, &referrer, &withdrawn_id, "cancelled").await);

        // Only its referrer and the board's clinicians read it.
        let other_referrer = app.token_for("another-gp", Role::Referrer, &["highland"]);
        let fife_dr = app.token_for("dr-fife", Role::Clinician, &["fife"]);
        for token in [&other_referrer, &fife_dr] {
            let (status, outcome) = get(app, token, &format!("/fhir/Task/{id}")).await;
            assert_eq!(status, 404, "{outcome}");
            emitted.push(outcome);
        }
        let evaluator = app.token(Role::Evaluator, &["highland"]);
        let (status, outcome) = get(app, &evaluator, &format!("/fhir/Task/{id}")).await;
        assert_eq!(status, 403, "{outcome}");
        emitted.push(outcome);
        let (status, outcome) = get(app, &referrer, "/fhir/Task/not-a-uuid").await;
        assert_eq!(status, 400, "{outcome}");
        emitted.push(outcome);

        validate(&format!("journey-{}", backend.name()), &emitted, &[]);
        decision.stop().await;
    }
}
