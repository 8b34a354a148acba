//! First appointments from the board's hospital system: a FHIR
//! `Appointment` posted for a referral publishes its `appointment.*` event
//! once (a repeat is answered the same and publishes nothing), a bad one is
//! answered with an `OperationOutcome` naming the element, a PAS extract
//! loads all or nothing with its problems by line, and analytics' fact
//! shows the first attendance from the events intake published.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::analytics::TestApp as AnalyticsApp;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{StreamedEvent, backends};
use serde_json::{Value, json};

const CLINIC_TYPES: &str = "https://pathway.scot.nhs.uk/fhir/CodeSystem/clinic-type";
const APPOINTMENT_TYPES: &str = "https://pathway.scot.nhs.uk/fhir/CodeSystem/appointment-type";

fn appointment(id: &str, referral: &str, status: &str, start: &str) -> Value {
    json!({
        "resourceType": "Appointment",
        "identifier": [{"system": "https://pas.highland.scot.nhs.uk/Id/appointment", "value": id}],
        "status": status,
        "start": start,
        "basedOn": [{"reference": format!("ServiceRequest/{referral}")}],
        "serviceType": [{"coding": [{"system": CLINIC_TYPES, "code": "pain-clinic"}]}],
        "appointmentType": {"coding": [{"system": APPOINTMENT_TYPES, "code": "first"}]},
        "participant": [{"actor": {"display": "Ms Jean Example"}, "status": "accepted"}]
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

async fn post_extract(app: &TestApp, token: &str, board: &str, file: String) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/boards/{board}/appointments.csv", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .expect("intake answers")
}

/// The FHIR answer: its status, content type and `OperationOutcome`.
async fn outcome(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    (status, kind, body)
}

fn appointment_events(events: &[StreamedEvent]) -> Vec<&StreamedEvent> {
    events
        .iter()
        .filter(|e| e.subject.contains(".appointment."))
        .collect()
}

/// Let the relay publish what it has, then read the stream.
async fn settled_events(app: &TestApp, at_least: usize) -> Vec<StreamedEvent> {
    let events = app.wait_for_events(at_least).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = app.stream_events().await;
    assert!(again.len() >= events.len());
    again
}

#[tokio::test]
async fn an_appointment_is_published_once_and_a_repeat_is_answered_the_same() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let referral = app.refer(&valid_referral("highland")).await;
        let pas = app.token_for("pas-highland", Role::HospitalSystem, &["highland"]);
        let before = app.wait_for_events(2).await.len();

        let booked = appointment("RAIG-1", &referral, "booked", "2026-09-10T09:30:00+01:00");
        let (status, kind, first) = outcome(post_appointment(&app, &pas, &booked).await).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(kind, "application/fhir+json");
        assert_eq!(first["issue"][0]["severity"], "information");
        let (status, _, again) = outcome(post_appointment(&app, &pas, &booked).await).await;
        assert_eq!(status, 200, "a repeat is not a second appointment: {again}");

        let attended = appointment(
            "RAIG-1",
            &referral,
            "fulfilled",
            "2026-09-10T09:30:00+01:00",
        );
        let (status, _, body) = outcome(post_appointment(&app, &pas, &attended).await).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, _) = outcome(post_appointment(&app, &pas, &attended).await).await;
        assert_eq!(status, 200);

        let events = settled_events(&app, before + 2).await;
        let published = appointment_events(&events);
        let subjects: Vec<&str> = published.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "pathway.v1.highland.appointment.booked",
                "pathway.v1.highland.appointment.attended"
            ],
            "one event per change ({})",
            backend.name()
        );
        let Some(Payload::AppointmentAttended(proto::AppointmentAttended {
            appointment: Some(seen),
        })) = &published[1].event.payload
        else {
            panic!("not an attendance: {:?}", published[1].event);
        };
        assert_eq!(published[1].event.referral_id, referral);
        assert_eq!(seen.appointment_id, "RAIG-1");
        assert_eq!(seen.day, "2026-09-10");
        assert_eq!(
            seen.starts_at.as_ref().map(|t| t.seconds),
            Some(1_789_029_000),
            "09:30 BST is 08:30 UTC"
        );
        assert_eq!(seen.clinic_type, proto::ClinicType::PainClinic as i32);
        assert!(seen.first_appointment);
        // Nothing about the patient or the participants leaves intake.
        for event in &published {
            let raw = String::from_utf8_lossy(&event.raw);
            assert!(!raw.contains("Jean"), "a participant on the stream");
            assert!(!raw.contains("MacLeod"), "a patient's name on the stream");
        }

        // A settled appointment is not booked again under the same id.
        let (status, _, body) = outcome(post_appointment(&app, &pas, &booked).await).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["issue"][0]["expression"][0], "Appointment.status");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_bad_appointment_is_answered_with_an_operation_outcome_naming_the_element() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        app.enable_board("fife").await;
        let referral = app.refer(&valid_referral("highland")).await;
        let fife_referral = app.refer(&valid_referral("fife")).await;
        let pas = app.token_for("pas-highland", Role::HospitalSystem, &["highland"]);

        let mut bad = appointment("RAIG-2", &referral, "booked", "2026-09-10T09:30:00+01:00");
        bad["basedOn"][0]["reference"] = json!("ServiceRequest/not-a-referral-id");
        bad["status"] = json!("waitlist");
        let (status, kind, body) = outcome(post_appointment(&app, &pas, &bad).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(kind, "application/fhir+json");
        let mut expressions: Vec<&str> = body["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .map(|i| {
                assert_eq!(i["severity"], "error");
                i["expression"][0].as_str().expect("an expression")
            })
            .collect();
        expressions.sort_unstable();
        assert_eq!(
            expressions,
            ["Appointment.basedOn[0].reference", "Appointment.status"]
        );

        // A referral of another board, or none at all: the same answer.
        for other in [
            fife_referral.as_str(),
            "0190f0e4-7c1a-7b3e-9d2a-5a6b7c8d9e0f",
        ] {
            let unknown = appointment("RAIG-3", other, "booked", "2026-09-10T09:30:00+01:00");
            let (status, _, body) = outcome(post_appointment(&app, &pas, &unknown).await).await;
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["issue"][0]["code"], "not-found");
            assert_eq!(body["issue"][0]["expression"][0], "Appointment.basedOn[0]");
        }

        // Only a hospital system reports appointments.
        let good = appointment("RAIG-4", &referral, "booked", "2026-09-10T09:30:00+01:00");
        let clinician = app.token(Role::Clinician, &["highland"]);
        let (status, _, body) = outcome(post_appointment(&app, &clinician, &good).await).await;
        assert_eq!(status, 403, "{body}");
        let (status, _, body) = outcome(
            app.http
                .post(format!("{}/fhir/Appointment", app.base))
                .bearer_auth(&pas)
                .body("{not json")
                .send()
                .await
                .expect("intake answers"),
        )
        .await;
        assert_eq!(status, 400, "{body}");

        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            appointment_events(&app.stream_events().await).is_empty(),
            "nothing published for a refused appointment"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn an_extract_loads_all_or_nothing_with_its_problems_by_line() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let first = app.refer(&valid_referral("highland")).await;
        let second = app.refer(&valid_referral("highland")).await;
        let pas = app.token_for("pas-highland", Role::HospitalSystem, &["highland"]);
        let header = "appointment_id,referral_id,status,start,clinic_type,first_appointment\n";

        let bad = format!(
            "{header}P1,{first},booked,2026-09-10 09:30,pain-clinic,yes\n\
             P2,0190f0e4-7c1a-7b3e-9d2a-5a6b7c8d9e0f,booked,2026-09-11 09:30,physiotherapy,yes\n"
        );
        let response = post_extract(&app, &pas, "highland", bad).await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.expect("a JSON error");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("a field"))
            .collect();
        assert_eq!(fields, ["line 3.referral_id"], "{body}");

        let unreadable = format!("{header}P1,{first},later,,pain-clinic,maybe\n");
        let body: Value = post_extract(&app, &pas, "highland", unreadable)
            .await
            .json()
            .await
            .expect("a JSON error");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("a field"))
            .collect();
        assert_eq!(
            fields,
            ["line 2.status", "line 2.first_appointment"],
            "{body}"
        );

        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            appointment_events(&app.stream_events().await).is_empty(),
            "a rejected file publishes nothing, its good rows included"
        );

        let good = format!(
            "{header}P1,{first},booked,2026-09-10 09:30,pain-clinic,yes\n\
             P2,{second},fulfilled,2026-09-11T10:00:00+01:00,pain-psychology,yes\n\
             P3,{second},cancelled,,physiotherapy,no\n"
        );
        let admin = app.token(Role::BoardAdmin, &["highland"]);
        let response = post_extract(&app, &admin, "highland", good.clone()).await;
        assert_eq!(response.status(), 200);
        let report: Value = response.json().await.expect("a JSON report");
        assert_eq!(report["rows"], 3);
        assert_eq!(report["published"]["appointment.booked"], 1);
        assert_eq!(report["published"]["appointment.attended"], 1);
        assert_eq!(report["published"]["appointment.cancelled"], 1);
        // The same file again changes nothing.
        let report: Value = post_extract(&app, &pas, "highland", good)
            .await
            .json()
            .await
            .expect("a JSON report");
        assert_eq!(report["unchanged"], 3, "{report}");

        let fife = post_extract(&app, &pas, "fife", header.to_owned()).await;
        assert_eq!(fife.status(), 403, "a token of highland only");

        let events = settled_events(&app, 5).await;
        assert_eq!(appointment_events(&events).len(), 3);
        app.stop().await;
    }
}

#[tokio::test]
async fn analytics_records_the_first_attendance_from_intakes_events() {
    for backend in backends().await {
        let mut intake = TestApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let referral = intake.refer(&valid_referral("highland")).await;
        let pas = intake.token_for("pas-highland", Role::HospitalSystem, &["highland"]);
        for (status, start) in [
            ("booked", "2026-09-10T09:30:00+01:00"),
            ("arrived", "2026-09-10T09:30:00+01:00"),
        ] {
            let body = appointment("RAIG-9", &referral, status, start);
            let response = post_appointment(&intake, &pas, &body).await;
            assert!(response.status().is_success());
        }
        let mut follow_up = appointment(
            "RAIG-10",
            &referral,
            "fulfilled",
            "2026-10-01T09:30:00+01:00",
        );
        follow_up["appointmentType"]["coding"][0]["code"] = json!("follow-up");
        assert!(
            post_appointment(&intake, &pas, &follow_up)
                .await
                .status()
                .is_success()
        );
        let events = settled_events(&intake, 5).await;

        // What intake published, carried to analytics as the stream would.
        let mut analytics = AnalyticsApp::spawn(&backend).await;
        let ours: Vec<_> = events
            .iter()
            .filter(|e| e.event.referral_id == referral)
            .collect();
        for event in &ours {
            analytics.send(&event.event).await;
        }
        analytics.wait_until_caught_up(ours.len() as u64).await;
        let fact = pathway_analytics::store::facts::load(&analytics.db, &referral)
            .await
            .expect("the facts table reads")
            .expect("a fact for the referral");
        let first = &fact.first_appointment;
        assert_eq!(
            first.attended_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-09-10T08:30:00+00:00"),
            "the first attendance, not the follow-up ({})",
            backend.name()
        );
        assert_eq!(first.clinic_type.as_deref(), Some("pain_clinic"));
        assert_eq!(first.appointment_id.as_deref(), Some("RAIG-9"));
        assert!(fact.received_at.is_some());
        intake.stop().await;
        analytics.stop().await;
    }
}

#[tokio::test]
async fn intake_may_publish_appointments_on_its_own_user_of_the_deployed_nats_config() {
    use pathway_common::startup::Workers;
    use pathway_tests::locked_nats::LockedNats;
    use sea_orm::{ConnectionTrait, Statement};

    let nats = LockedNats::start();
    let backend = pathway_tests::Backend::Sqlite;
    let mut intake = TestApp::spawn_adjusted(&backend, Workers::default(), |settings| {
        settings.nats = nats.settings("intake");
    })
    .await;
    intake.enable_board("highland").await;
    let referral = intake.refer(&valid_referral("highland")).await;
    let pas = intake.token_for("pas-highland", Role::HospitalSystem, &["highland"]);
    let body = appointment("RAIG-20", &referral, "booked", "2026-09-10T09:30:00+01:00");
    assert_eq!(post_appointment(&intake, &pas, &body).await.status(), 201);

    // The relay marks a row published only once the stream acknowledged it.
    let unpublished = || async {
        let row = intake
            .db
            .query_one_raw(Statement::from_string(
                intake.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL",
            ))
            .await
            .ok()??;
        let n: i64 = row.try_get("", "n").ok()?;
        (n == 0).then_some(())
    };
    assert!(
        pathway_tests::eventually(Duration::from_secs(20), unpublished)
            .await
            .is_some(),
        "the appointment's event was not published under intake's NATS user:\n{}",
        nats.log()
    );
    intake.stop().await;
}

/// `pathway appointments import` sends the extract to intake; analytics,
/// on the same stream, records the first attendance.
#[tokio::test]
async fn the_cli_imports_an_extract_and_analytics_sees_the_attendance_through_the_stream() {
    use clap::Parser as _;
    use pathway_tests::cli::Platform;

    let backend = pathway_tests::Backend::Sqlite;
    let platform = Platform::start(&backend).await;
    platform.intake.enable_board("highland").await;
    let referral = platform.intake.refer(&valid_referral("highland")).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("pas-extract.csv");
    std::fs::write(
        &file,
        format!(
            "appointment_id,referral_id,status,start,clinic_type,first_appointment\n\
             P9,{referral},fulfilled,2026-11-03 14:00,physiotherapy,yes\n"
        ),
    )
    .expect("the extract is written");

    let line = format!("appointments import --board highland {}", file.display());
    let mut argv = vec!["pathway".to_owned()];
    let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
    argv.extend(platform.cli_flags(&words));
    argv.extend(words);
    let cli = pathway_cli::Cli::try_parse_from(&argv).expect("the command parses");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    pathway_cli::run(cli, &mut out, &mut err)
        .await
        .expect("the extract is recorded");
    let printed = String::from_utf8(out).expect("UTF-8");
    assert!(
        printed.contains("1 rows") && printed.contains("1 appointment.attended"),
        "{printed}"
    );

    platform.analytics.wait_until_caught_up().await;
    let fact = pathway_analytics::store::facts::load(&platform.analytics.db, &referral)
        .await
        .expect("the facts table reads")
        .expect("a fact for the referral");
    assert_eq!(
        fact.first_appointment
            .attended_at
            .map(|t| t.to_rfc3339())
            .as_deref(),
        Some("2026-11-03T14:00:00+00:00"),
        "14:00 in November is GMT"
    );
    assert_eq!(
        fact.first_appointment.clinic_type.as_deref(),
        Some("physiotherapy")
    );
    platform.stop().await;
}
