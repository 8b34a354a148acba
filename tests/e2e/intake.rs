//! Intake, black-box: the real service against a real nats-server and real
//! databases (SQLite always, PostgreSQL when one answers).

use std::time::Duration;

use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;
use pathway_intake::startup::Workers;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{remove, set, valid_referral};
use pathway_tests::{Backend, backends, eventually};
use prost::Message as _;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

async fn referral_rows(app: &TestApp) -> u64 {
    pathway_intake::store::referral::Entity::find()
        .count(&app.db)
        .await
        .expect("count referrals")
}

async fn audit_rows(app: &TestApp, action: &str, referral_id: &str) -> usize {
    pathway_common::audit::entity::Entity::find()
        .all(&app.db)
        .await
        .expect("read audit")
        .into_iter()
        .filter(|row| row.action == action && row.referral_id.as_deref() == Some(referral_id))
        .count()
}

#[tokio::test]
async fn a_referral_is_stored_once_and_announced_on_the_stream() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let body = valid_referral("highland");
        let token = app.token(Role::Referrer, &["highland"]);

        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status(), 201, "{}", backend.name());
        assert!(response.headers().get("location").is_some());
        let created: Value = response.json().await.expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");
        assert_eq!(created["route"], "remote_pathway");
        let id = created["id"].as_str().expect("id").to_owned();

        // The referrer can read it back, with its status, history and actions.
        let response = app.get_referral(&token, &id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("etag").and_then(|v| v.to_str().ok()),
            Some("\"1\"")
        );
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["status"], "awaiting_vetting");
        assert_eq!(view["referral"]["patient"]["chi"], body["patient"]["chi"]);
        assert_eq!(view["history"][0]["event"], "referral.received");
        assert_eq!(view["allowed_actions"], json!(["withdraw"]));

        // One event, on the board's subject, de-duplicated by its id, traced.
        let events = app.wait_for_events(2).await;
        let received: Vec<_> = events
            .iter()
            .filter(|e| matches!(e.event.payload, Some(Payload::ReferralReceived(_))))
            .collect();
        assert_eq!(received.len(), 1);
        let message = received[0];
        assert_eq!(message.subject, "pathway.v1.highland.referral.received");
        assert_eq!(message.event.referral_id, id);
        let headers = message.headers.as_ref().expect("headers");
        assert_eq!(
            headers.get("Nats-Msg-Id").map(|v| v.as_str()),
            Some(message.event.event_id.as_str())
        );
        assert!(
            headers.get("traceparent").is_some(),
            "trace context travels with the event"
        );
        let Some(Payload::ReferralReceived(payload)) = &message.event.payload else {
            unreachable!()
        };
        let patient = payload.patient.as_ref().expect("attributes");
        assert_eq!(
            patient.age_band,
            age_band_of(body["patient"]["date_of_birth"].as_str().expect("dob"))
        );
        assert_eq!(patient.sex, proto::Sex::Female as i32);
        assert_eq!(
            (patient.urban_rural_class, patient.simd_quintile),
            (3, 4),
            "from the postcode lookup"
        );
        assert_eq!(patient.patient_pseudonym.len(), 64);
        assert_eq!(payload.pain_intensity, 7);

        // The creation and the read each left one audit row.
        assert_eq!(audit_rows(&app, "referral.create", &id).await, 1);
        assert_eq!(audit_rows(&app, "referral.read", &id).await, 1);
        assert_eq!(referral_rows(&app).await, 1);
    }
}

/// The age band worked out here from first principles (whole years on today's date).
fn age_band_of(dob: &str) -> String {
    let dob = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").expect("date");
    let years = chrono::Utc::now()
        .date_naive()
        .years_since(dob)
        .expect("born in the past");
    let bands = [
        (0, 15),
        (16, 24),
        (25, 34),
        (35, 44),
        (45, 54),
        (55, 64),
        (65, 74),
        (75, 84),
    ];
    bands
        .iter()
        .find(|(low, high)| (*low..=*high).contains(&years))
        .map_or_else(|| "85+".to_owned(), |(low, high)| format!("{low}-{high}"))
}

#[tokio::test]
async fn a_board_switch_takes_effect_at_once_without_a_restart() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let token = app.token(Role::Referrer, &["fife"]);

        // Never switched on: the standard route.
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "routed_standard");

        app.enable_board("fife").await;
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");

        // A switch-off from a future date leaves it on today.
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
        assert_eq!(
            app.switch_board("fife", false, Some(&tomorrow))
                .await
                .status(),
            200
        );
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");

        assert_eq!(app.switch_board("fife", false, None).await.status(), 200);
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "routed_standard");

        // The board list shows the switch with who and when.
        let boards: Value = app
            .http
            .get(format!("{}/v1/boards", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON");
        assert_eq!(boards.as_array().map(Vec::len), Some(14));
        let fife = boards
            .as_array()
            .and_then(|b| b.iter().find(|b| b["code"] == "fife"))
            .expect("fife");
        assert_eq!(fife["pathway_enabled"], false);
        assert_eq!(fife["changes"].as_array().map(Vec::len), Some(3));
        assert_eq!(fife["changes"][0]["changed_by"], "test-board_admin");

        // Each switch and each referral is an event; routed ones have their own subject.
        let events = app.wait_for_events(7).await;
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("board.pathway_changed"))
                .count(),
            3
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("referral.routed_standard"))
                .count(),
            2
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("referral.received"))
                .count(),
            2
        );
    }
}

#[tokio::test]
async fn only_a_board_admin_of_that_board_switches_it() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let url = format!("{}/v1/boards/highland/pathway", app.base);
    let body = json!({"enabled": true});
    for (token, status) in [
        (app.token(Role::BoardAdmin, &["fife"]), 403),
        (app.token(Role::Clinician, &["highland"]), 403),
        (app.token(Role::Referrer, &["highland"]), 403),
    ] {
        let response = app
            .http
            .put(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), status);
    }
    let response = app
        .http
        .put(format!("{}/v1/boards/atlantis/pathway", app.base))
        .bearer_auth(app.token(Role::BoardAdmin, &["*"]))
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 404);
    let response = app
        .http
        .put(&url)
        .bearer_auth(app.token(Role::BoardAdmin, &["highland"]))
        .json(&json!({"enabled": true, "effective_date": "next tuesday"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["fields"][0]["field"], "effective_date");
}

/// `(what is wrong, how to break a valid body, expected status, field named)`.
type BadInput = (&'static str, fn(&mut Value), u16, &'static str);

fn bad_inputs() -> Vec<BadInput> {
    vec![
        (
            "wrong CHI check digit",
            |b| {
                // A last digit that neither modulus 11 nor modulus 10 accepts.
                let chi = b["patient"]["chi"].as_str().unwrap_or_default().to_owned();
                let wrong = (0..10)
                    .map(|d| format!("{}{d}", &chi[..9]))
                    .find(|c| pathway_intake::domain::ChiNumber::parse(c).is_err())
                    .expect("some check digit is wrong");
                set(b, "patient.chi", json!(wrong));
            },
            422,
            "patient.chi",
        ),
        (
            "CHI too short",
            |b| set(b, "patient.chi", json!("12345")),
            422,
            "patient.chi",
        ),
        (
            "CHI with letters",
            |b| set(b, "patient.chi", json!("01010112AB")),
            422,
            "patient.chi",
        ),
        (
            "CHI not matching the birth date",
            |b| {
                let dob = b["patient"]["date_of_birth"].as_str().unwrap_or_default();
                let dob = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").expect("a date");
                let next_day = dob + chrono::Days::new(1);
                set(b, "patient.date_of_birth", json!(next_day.to_string()));
            },
            422,
            "patient.chi",
        ),
        (
            "CHI not matching the sex",
            |b| set(b, "patient.sex", json!("male")),
            422,
            "patient.chi",
        ),
        (
            "unknown board",
            |b| set(b, "board", json!("atlantis")),
            422,
            "board",
        ),
        ("missing board", |b| remove(b, "board"), 422, "board"),
        (
            "date of birth in the future",
            |b| set(b, "patient.date_of_birth", json!("2999-01-01")),
            422,
            "patient.date_of_birth",
        ),
        (
            "date of birth not a date",
            |b| set(b, "patient.date_of_birth", json!("31/02/1967")),
            422,
            "patient.date_of_birth",
        ),
        (
            "intensity 11",
            |b| set(b, "clinical.pain_intensity", json!(11)),
            422,
            "clinical.pain_intensity",
        ),
        (
            "intensity -1",
            |b| set(b, "clinical.pain_intensity", json!(-1)),
            422,
            "clinical.pain_intensity",
        ),
        (
            "intensity as text",
            |b| set(b, "clinical.pain_intensity", json!("seven")),
            422,
            "clinical.pain_intensity",
        ),
        (
            "missing consent",
            |b| remove(b, "consent_to_remote_pathway"),
            422,
            "consent_to_remote_pathway",
        ),
        (
            "consent refused",
            |b| set(b, "consent_to_remote_pathway", json!(false)),
            422,
            "consent_to_remote_pathway",
        ),
        (
            "unknown sex",
            |b| set(b, "patient.sex", json!("x")),
            422,
            "patient.sex",
        ),
        (
            "bad postcode",
            |b| set(b, "patient.postcode", json!("NOT A CODE")),
            422,
            "patient.postcode",
        ),
        (
            "blank family name",
            |b| set(b, "patient.family_name", json!("  ")),
            422,
            "patient.family_name",
        ),
        ("missing patient", |b| remove(b, "patient"), 422, "patient"),
        (
            "sms without a mobile",
            |b| remove(b, "patient.contact.mobile"),
            422,
            "patient.contact.mobile",
        ),
        (
            "bad mobile",
            |b| set(b, "patient.contact.mobile", json!("0131 555 0000")),
            422,
            "patient.contact.mobile",
        ),
        (
            "bad e-mail",
            |b| set(b, "patient.contact.email", json!("not-an-email")),
            422,
            "patient.contact.email",
        ),
        (
            "unknown contact channel",
            |b| set(b, "patient.contact.preferred", json!("pigeon")),
            422,
            "patient.contact.preferred",
        ),
        (
            "bad practice code",
            |b| set(b, "referrer.practice_code", json!("ABC")),
            422,
            "referrer.practice_code",
        ),
        (
            "http webhook",
            |b| {
                set(b, "referrer.reply_channel", json!("webhook"));
                set(
                    b,
                    "referrer.reply_address",
                    json!("http://gp.example.org/hook"),
                );
            },
            422,
            "referrer.reply_address",
        ),
        (
            "unknown red flag",
            |b| set(b, "clinical.red_flags", json!(["headache"])),
            422,
            "clinical.red_flags[0]",
        ),
        (
            "red flags not answered",
            |b| remove(b, "clinical.red_flags"),
            422,
            "clinical.red_flags",
        ),
        (
            "no pain site",
            |b| set(b, "clinical.pain_sites", json!([])),
            422,
            "clinical.pain_sites",
        ),
        (
            "unknown pain site",
            |b| set(b, "clinical.pain_sites", json!(["elbow"])),
            422,
            "clinical.pain_sites[0]",
        ),
        (
            "unknown impact level",
            |b| set(b, "clinical.impact.sleep", json!("terrible")),
            422,
            "clinical.impact.sleep",
        ),
        (
            "missing question",
            |b| remove(b, "clinical.question"),
            422,
            "clinical.question",
        ),
        (
            "duration of 200 years",
            |b| set(b, "clinical.pain_duration_months", json!(2400)),
            422,
            "clinical.pain_duration_months",
        ),
        (
            "interpreter without a language",
            |b| set(b, "patient.accessibility_needs", json!(["interpreter"])),
            422,
            "patient.interpreter_language",
        ),
        (
            "unknown field",
            |b| set(b, "patient.nhs_number", json!("943 476 5919")),
            422,
            "patient",
        ),
        ("body is an array", |b| *b = json!([1, 2, 3]), 422, "body"),
    ]
}

#[tokio::test]
async fn every_bad_input_is_refused_with_the_field_and_nothing_is_written() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let token = app.token(Role::Referrer, &["highland"]);
    let cases = bad_inputs();
    assert!(cases.len() >= 25);
    for (what, breaks, status, field) in cases {
        let mut body = valid_referral("highland");
        breaks(&mut body);
        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.expect("a JSON error body");
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{what}: expected {field} among {fields:?}"
        );
        assert!(
            error["fields"][0]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{what}: a reason"
        );
    }
    // Several faults at once are all named.
    let mut body = valid_referral("highland");
    set(&mut body, "clinical.pain_intensity", json!(11));
    set(&mut body, "patient.postcode", json!("nowhere"));
    remove(&mut body, "consent_to_remote_pathway");
    let error: Value = app
        .post_referral(&token, &body)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(error["fields"].as_array().map(Vec::len), Some(3));
    assert_eq!(error["rejection_reason"]["code"], "03");

    // Not JSON, not declared JSON, too large.
    let url = format!("{}/v1/referrals", app.base);
    let response = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["fields"][0]["field"], "body");
    let response = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .body("board=highland")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 415);
    let huge = json!({"board": "highland", "padding": "x".repeat(300 * 1024)});
    let response = app.post_referral(&token, &huge).await;
    assert_eq!(response.status(), 413);

    assert_eq!(referral_rows(&app).await, 0, "no bad input leaves a row");
    let stream_referrals = app
        .stream_events()
        .await
        .into_iter()
        .filter(|e| e.subject.contains(".referral."))
        .count();
    assert_eq!(stream_referrals, 0, "no bad input leaves an event");
}

#[tokio::test]
async fn tokens_that_are_missing_expired_forged_or_for_another_board_are_refused() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let body = valid_referral("highland");
    let url = format!("{}/v1/referrals", app.base);

    let response = app
        .http
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );

    let response = app
        .http
        .post(&url)
        .header("authorization", "Basic abc")
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 401);

    let mut claims = Claims::new(
        "gp-1",
        Role::Referrer,
        vec!["highland".into()],
        Duration::from_secs(60),
    );
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let own = Authenticator::from_settings(&app.settings.auth).expect("local key");
    let expired = own.issue(&claims).expect("sign");
    let response = app.post_referral(&expired, &body).await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["error"], "token_expired");

    let dir = tempfile::tempdir().expect("dir");
    let forger = Authenticator::from_settings(&AuthSettings {
        local_key_file: dir.path().join("other.key"),
        ..AuthSettings::default()
    })
    .expect("another key");
    let forged = forger
        .issue(&Claims::new(
            "gp-1",
            Role::Referrer,
            vec!["highland".into()],
            Duration::from_secs(60),
        ))
        .expect("sign");
    assert_eq!(app.post_referral(&forged, &body).await.status(), 401);

    assert_eq!(
        app.post_referral(&app.token(Role::Referrer, &["fife"]), &body)
            .await
            .status(),
        403
    );
    let mut invalid = body.clone();
    invalid["clinical"]["pain_intensity"] = json!(11);
    let other_board = app.token(Role::Referrer, &["fife"]);
    assert_eq!(
        app.post_referral(&other_board, &invalid).await.status(),
        403,
        "the board is checked before the body"
    );
    assert_eq!(
        app.post_referral(&app.token(Role::Clinician, &["highland"]), &body)
            .await
            .status(),
        403
    );
    assert_eq!(referral_rows(&app).await, 0);

    // Reading: another referrer, another board's clinician, an evaluator.
    let id = app.refer(&body).await;
    let other_referrer = app.token_for("gp-2", Role::Referrer, &["highland"]);
    assert_eq!(app.get_referral(&other_referrer, &id).await.status(), 404);
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["fife"]), &id)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Evaluator, &["highland"]), &id)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["highland"]), &id)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["highland"]), "not-a-uuid")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let send = |body: Value| {
            let request = app
                .http
                .post(format!("{}/v1/referrals", app.base))
                .bearer_auth(&token)
                .header("Idempotency-Key", "gp-system-42")
                .json(&body);
            async move { request.send().await.expect("answer") }
        };
        let first = send(body.clone()).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.expect("JSON");
        let again = send(body.clone()).await;
        assert_eq!(again.status(), 201);
        let again: Value = again.json().await.expect("JSON");
        assert_eq!(first["id"], again["id"]);
        assert_eq!(referral_rows(&app).await, 1);

        let other = send(valid_referral("highland")).await;
        assert_eq!(other.status(), 422);
        let error: Value = other.json().await.expect("JSON");
        assert_eq!(error["error"], "idempotency_key_reused");
        assert_eq!(referral_rows(&app).await, 1);
    }
}

#[tokio::test]
async fn a_second_open_referral_for_the_patient_is_a_duplicate_unless_deliberate() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let first = app.refer(&body).await;

        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status(), 409);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], "duplicate_referral");
        assert_eq!(error["open_referral_id"], first.as_str());
        assert_eq!(error["rejection_reason"]["code"], "01");

        let mut deliberate = body.clone();
        deliberate["re_referral"] = json!(true);
        assert_eq!(app.post_referral(&token, &deliberate).await.status(), 201);

        // Once the first is withdrawn, a new referral is no duplicate.
        let response = app
            .http
            .post(format!("{}/v1/referrals/{first}/withdraw", app.base))
            .bearer_auth(&token)
            .json(&json!({"reason_code": "sent_in_error"}))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(app.post_referral(&token, &body).await.status(), 201);
    }
}

#[tokio::test]
async fn concurrent_duplicates_make_exactly_one_referral() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let token = app.token(Role::Referrer, &["highland"]);
    let body = valid_referral("highland");
    let attempts =
        futures::future::join_all((0..8).map(|_| app.post_referral(&token, &body))).await;
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_event_committed_before_a_crash_is_published_once_after_restart() {
    for backend in backends().await {
        // The relay is off: the referral commits, nothing is published, and
        // the service stops, as if killed between commit and publish.
        let no_relay = Workers {
            relay: false,
            consumers: false,
            sweeps: false,
            rpc: false,
        };
        let app = TestApp::spawn_with(&backend, no_relay).await;
        app.enable_board("orkney").await;
        let id = app.refer(&valid_referral("orkney")).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            app.stream_events().await.is_empty(),
            "nothing published yet"
        );

        let app = app.restart(Workers::default()).await;
        let events = app.wait_for_events(2).await;
        assert_eq!(
            events.iter().filter(|e| e.event.referral_id == id).count(),
            1
        );

        // A crash after the publish but before the row was marked: the relay
        // publishes again and the stream's de-duplication drops the copy.
        app.db
            .execute_unprepared("UPDATE outbox SET published_at = NULL")
            .await
            .expect("reset the outbox");
        let republished = app
            .app
            .platform
            .relay()
            .try_publish_batch()
            .await
            .expect("relay runs");
        assert_eq!(republished, 2);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            app.stream_events().await.len(),
            2,
            "still one copy of each event ({})",
            backend.name()
        );
    }
}

async fn publish(app: &TestApp, event: &Event, message_id: &str) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", message_id);
    app.jetstream
        .publish_with_headers(
            event.subject().expect("subject"),
            headers,
            event.encode_to_vec().into(),
        )
        .await
        .expect("publish")
        .await
        .expect("the stream acknowledges");
}

fn event(board: &str, referral_id: &str, payload: Payload) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("uuid")),
        "dr-vetting",
        chrono::Utc::now(),
        payload,
    )
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    let token = app.token(Role::Clinician, &["highland"]);
    app.get_referral(&token, id)
        .await
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let id = app.refer(&valid_referral("highland")).await;
        let claimed = event(
            "highland",
            &id,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        );
        // Two copies that slip past the broker's de-duplication.
        publish(&app, &claimed, "copy-1").await;
        publish(&app, &claimed, "copy-2").await;
        let view = eventually(Duration::from_secs(10), || async {
            let view = status_of(&app, &id).await;
            (view["status"] == "in_vetting").then_some(view)
        })
        .await
        .expect("the claim reaches intake");
        // Give the second copy time to arrive, then count.
        let duplicates = eventually(Duration::from_secs(10), || async {
            let rows = pathway_common::inbox::entity::Entity::find()
                .count(&app.db)
                .await
                .ok()?;
            (rows >= 1).then_some(rows)
        })
        .await;
        assert_eq!(duplicates, Some(1));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let view2 = status_of(&app, &id).await;
        let claims = view2["history"]
            .as_array()
            .map(|h| h.iter().filter(|e| e["event"] == "vetting.claimed").count());
        assert_eq!(claims, Some(1), "{}", backend.name());
        assert_eq!(view2["version"], view["version"]);
    }
}

#[tokio::test]
async fn the_information_loop_and_withdrawal_follow_the_status() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let id = app.refer(&valid_referral("highland")).await;
        let info = |body: Value, etag: Option<String>| {
            let mut request = app
                .http
                .post(format!("{}/v1/referrals/{id}/information", app.base))
                .bearer_auth(&token)
                .json(&body);
            if let Some(etag) = etag {
                request = request.header("If-Match", etag);
            }
            async move { request.send().await.expect("answer") }
        };

        // Nothing asked yet.
        assert_eq!(
            info(json!({"answer": "MRI normal"}), None).await.status(),
            409
        );

        let request_id = uuid::Uuid::now_v7().to_string();
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingClaimed(proto::VettingClaimed {
                    clinician: "dr-vetting".into(),
                    lease_expires_at: None,
                }),
            ),
            "c1",
        )
        .await;
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingInfoRequested(proto::VettingInfoRequested {
                    information_request_id: request_id.clone(),
                    clinician: "dr-vetting".into(),
                    question: "Any imaging?".into(),
                }),
            ),
            "i1",
        )
        .await;
        let view = eventually(Duration::from_secs(10), || async {
            let view = status_of(&app, &id).await;
            (view["status"] == "info_requested").then_some(view)
        })
        .await
        .expect("the request reaches intake");
        assert_eq!(view["information_requests"][0]["id"], request_id.as_str());
        let referrer_view: Value = app
            .get_referral(&token, &id)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            referrer_view["allowed_actions"],
            json!(["withdraw", "provide_information"])
        );

        // A stale ETag is refused; the right one is taken.
        let stale = info(json!({"answer": "MRI normal"}), Some("\"1\"".into())).await;
        assert_eq!(stale.status(), 412);
        assert_eq!(info(json!({"answer": "  "}), None).await.status(), 422);
        let current = format!("\"{}\"", referrer_view["version"]);
        let answered = info(
            json!({"answer": "MRI lumbar spine 2025: degenerative change only"}),
            Some(current),
        )
        .await;
        assert_eq!(answered.status(), 200);
        let answered: Value = answered.json().await.expect("JSON");
        assert_eq!(answered["status"], "awaiting_vetting");
        let events = app.wait_for_events(5).await;
        let provided: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event.payload {
                Some(Payload::ReferralInfoProvided(p)) => Some(p.information_request_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(provided, vec![request_id.clone()]);

        // Withdraw, then withdrawing again is a conflict.
        let withdraw = |reason: &str| {
            let request = app
                .http
                .post(format!("{}/v1/referrals/{id}/withdraw", app.base))
                .bearer_auth(&token)
                .json(&json!({"reason_code": reason}));
            async move { request.send().await.expect("answer") }
        };
        assert_eq!(withdraw("bored").await.status(), 422);
        assert_eq!(withdraw("patient_request").await.status(), 200);
        assert_eq!(withdraw("patient_request").await.status(), 409);
        let view = status_of(&app, &id).await;
        assert_eq!(view["status"], "withdrawn");
        assert_eq!(audit_rows(&app, "referral.withdraw", &id).await, 1);
        assert_eq!(
            audit_rows(&app, "referral.information_provided", &id).await,
            1
        );
    }
}

#[tokio::test]
async fn no_patient_identifier_ever_reaches_the_stream() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let mut bodies = Vec::new();
    for board in ["highland", "lothian"] {
        for _ in 0..3 {
            let body = valid_referral(board);
            app.post_referral(&app.token(Role::Referrer, &[board]), &body)
                .await;
            bodies.push(body);
        }
    }
    let events = app.wait_for_events(7).await;
    for body in &bodies {
        let p = &body["patient"];
        let chi = p["chi"].as_str().unwrap_or_default().to_owned();
        let identifiers = [
            chi.clone(),
            p["family_name"].as_str().unwrap_or_default().to_owned(),
            p["date_of_birth"].as_str().unwrap_or_default().to_owned(),
            p["date_of_birth"]
                .as_str()
                .unwrap_or_default()
                .replace('-', ""),
            p["postcode"].as_str().unwrap_or_default().to_owned(),
            p["postcode"].as_str().unwrap_or_default().replace(' ', ""),
            p["contact"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            "07700900123".to_owned(),
            "Culduthel".to_owned(),
            "IV2 4AG".to_owned(),
        ];
        for event in &events {
            let mut haystack = event.raw.clone();
            if let Some(headers) = &event.headers {
                for (name, values) in headers.iter() {
                    haystack.extend_from_slice(name.to_string().as_bytes());
                    for value in values {
                        haystack.extend_from_slice(value.as_str().as_bytes());
                    }
                }
            }
            for identifier in &identifiers {
                let found = haystack
                    .windows(identifier.len())
                    .any(|w| w == identifier.as_bytes());
                assert!(!found, "an identifier reached {}", event.subject);
            }
        }
    }
}

#[tokio::test]
async fn other_services_read_identifiable_data_only_with_a_service_token_and_leave_an_audit_row() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let id = app.refer(&valid_referral("highland")).await;
    let ask = |token: String, body: proto::ReferralLookupRequest| {
        let nats = app.nats.clone();
        async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Authorization", format!("Bearer {token}").as_str());
            let reply = nats
                .request_with_headers(
                    pathway_proto::rpc::REFERRAL_LOOKUP,
                    headers,
                    body.encode_to_vec().into(),
                )
                .await
                .expect("intake replies");
            proto::ReferralLookupReply::decode(reply.payload)
                .expect("a ReferralLookupReply")
                .result
                .expect("a referral or a refusal")
        }
    };
    let refused = |result: proto::referral_lookup_reply::Result| match result {
        proto::referral_lookup_reply::Result::Refusal(refusal) => refusal.code(),
        proto::referral_lookup_reply::Result::Referral(referral) => {
            panic!("a referral given: {}", referral.id)
        }
    };
    let request = proto::ReferralLookupRequest {
        referral_id: id.clone(),
        purpose: "vetting worklist".into(),
    };
    let reply = ask(
        app.token_for("svc-vetting", Role::Service, &["highland"]),
        request.clone(),
    )
    .await;
    let proto::referral_lookup_reply::Result::Referral(referral) = reply else {
        panic!("intake gave no referral to a service of the board");
    };
    assert_eq!(referral.id, id.as_str());
    let chi = referral.patient.expect("the patient").chi;
    assert_eq!(chi.len(), 10, "a CHI number");
    assert_eq!(audit_rows(&app, "referral.read_identifiable", &id).await, 1);

    let reply = ask(app.token(Role::Clinician, &["highland"]), request.clone()).await;
    assert_eq!(refused(reply), proto::RefusalCode::Forbidden);
    let reply = ask(
        app.token_for("svc-vetting", Role::Service, &["fife"]),
        request.clone(),
    )
    .await;
    assert_eq!(refused(reply), proto::RefusalCode::Forbidden);
    let reply = ask("forged".into(), request.clone()).await;
    assert_eq!(refused(reply), proto::RefusalCode::Unauthenticated);
    // A purpose is required, and a request that is not one is refused
    // without an answer being given or a read audited.
    let blank = proto::ReferralLookupRequest {
        purpose: " ".into(),
        ..request.clone()
    };
    let service = app.token_for("svc-vetting", Role::Service, &["highland"]);
    let reply = ask(service.clone(), blank).await;
    assert_eq!(refused(reply), proto::RefusalCode::Invalid);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {service}").as_str());
    let reply = app
        .nats
        .request_with_headers(
            pathway_proto::rpc::REFERRAL_LOOKUP,
            headers,
            json!({"referral_id": id, "purpose": "vetting worklist"})
                .to_string()
                .into(),
        )
        .await
        .expect("intake replies to a malformed request");
    let reply = proto::ReferralLookupReply::decode(reply.payload)
        .expect("a ReferralLookupReply")
        .result
        .expect("a refusal");
    assert_eq!(refused(reply), proto::RefusalCode::Invalid);
    let unknown = proto::ReferralLookupRequest {
        referral_id: uuid::Uuid::now_v7().to_string(),
        ..request
    };
    let reply = ask(service, unknown).await;
    assert_eq!(refused(reply), proto::RefusalCode::NotFound);
    assert_eq!(audit_rows(&app, "referral.read_identifiable", &id).await, 1);
}

#[tokio::test]
async fn health_readiness_metrics_and_the_openapi_document_are_served() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{path}");
    }
    app.http
        .get(format!("{}/v1/boards", app.base))
        .send()
        .await
        .expect("answer");
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("pathway_http_requests_total"), "{metrics}");
    let openapi: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for path in [
        "/v1/referrals",
        "/v1/referrals/{id}",
        "/v1/boards",
        "/v1/boards/{board}/pathway",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is documented");
    }
    let response = app
        .http
        .get(format!("{}/v1/nothing", app.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_readme_example_referral_is_accepted() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/referral.json");
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("examples/referral.json"))
            .expect("JSON");
    let response = app
        .post_referral(&app.token(Role::Referrer, &["highland"]), &body)
        .await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_with_the_reason_and_do_not_block_the_rest() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let id = app.refer(&valid_referral("highland")).await;

    // Not an event at all, and an event for a referral intake never had.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "garbage-1");
    app.jetstream
        .publish_with_headers(
            "pathway.v1.highland.vetting.claimed",
            headers,
            vec![0xff, 0xff, 0xff].into(),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
    let stranger = uuid::Uuid::now_v7().to_string();
    let claim = |referral: &str| {
        event(
            "highland",
            referral,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        )
    };
    publish(&app, &claim(&stranger), "stranger-1").await;
    // A good event after them is still handled.
    publish(&app, &claim(&id), "good-1").await;
    eventually(Duration::from_secs(10), || async {
        (status_of(&app, &id).await["status"] == "in_vetting").then_some(())
    })
    .await
    .expect("the good event is handled");

    let dead = eventually(Duration::from_secs(10), || async {
        let rows = pathway_common::inbox::dead_letter::Entity::find()
            .all(&app.db)
            .await
            .ok()?;
        (rows.len() >= 2).then_some(rows)
    })
    .await
    .expect("two dead letters");
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter().any(|d| d.reason.contains("cannot decode")),
        "{dead:?}"
    );
    assert!(
        dead.iter().any(|d| d.reason.contains(&stranger)),
        "{dead:?}"
    );

    // The dead-letter stream holds exactly as many messages as there are rows.
    let on_stream = eventually(Duration::from_secs(10), || async {
        let mut stream = app
            .jetstream
            .get_stream(pathway_proto::stream::DEAD_LETTER_STREAM)
            .await
            .ok()?;
        let count = stream.info().await.ok()?.state.messages;
        (count >= 2).then_some(count)
    })
    .await;
    assert_eq!(on_stream, Some(2));
    let stream = app
        .jetstream
        .get_stream(pathway_proto::stream::DEAD_LETTER_STREAM)
        .await
        .expect("stream");
    let first = stream.get_raw_message(1).await.expect("a dead letter");
    assert_eq!(
        first.subject.as_str(),
        "pathway.deadletter.v1.intake-status"
    );
    assert!(first.headers.get("Pathway-Dead-Letter-Reason").is_some());
}

async fn settings_rows(app: &TestApp) -> u64 {
    pathway_intake::store::board_settings_change::Entity::find()
        .count(&app.db)
        .await
        .expect("count settings changes")
}

async fn board_audit_rows(app: &TestApp, action: &str, board: &str) -> usize {
    pathway_common::audit::entity::Entity::find()
        .all(&app.db)
        .await
        .expect("read audit")
        .into_iter()
        .filter(|row| row.action == action && row.board.as_deref() == Some(board))
        .count()
}

/// `settings_changed` events on the stream, as `(subject, event)`.
async fn settings_events(app: &TestApp) -> Vec<(String, proto::BoardSettingsChanged)> {
    app.stream_events()
        .await
        .into_iter()
        .filter_map(|e| match e.event.payload {
            Some(Payload::BoardSettingsChanged(changed)) => Some((e.subject, changed)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn board_settings_are_stored_with_who_and_when_and_announced() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token_for("admin-ruth", Role::BoardAdmin, &["highland"]);
        let clinician = app.token(Role::Clinician, &["highland"]);

        // Never set: the defaults, no history.
        let response = app.get_board_settings(&clinician, "highland").await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["defaults"], true);
        assert_eq!(view["settings"]["vetting_target_working_days"], 10);
        assert_eq!(view["changes"], json!([]));

        let document = TestApp::example_board_settings();
        let response = app
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}: {}",
            backend.name(),
            response.text().await.unwrap_or_default()
        );
        let stored: Value = response.json().await.expect("JSON");
        assert_eq!(
            stored["settings"], document,
            "the whole document comes back"
        );
        assert_eq!(stored["changed_by"], "admin-ruth");

        // A second change: the latest is in force, both are kept.
        let mut stricter = document.clone();
        stricter["vetting_target_working_days"] = json!(5);
        stricter["disabled_outcomes"] = json!(["residential_programme"]);
        let response = app
            .put_board_settings(&admin, "highland", &stricter.to_string())
            .await;
        assert_eq!(response.status(), 200);

        let view: Value = app
            .get_board_settings(&clinician, "highland")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(view["defaults"], false);
        assert_eq!(view["settings"], stricter);
        assert_eq!(view["changed_by"], "admin-ruth");
        assert!(view["changed_at"].is_string());
        let changes = view["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0]["settings"], document);
        assert_eq!(changes[0]["changed_by"], "admin-ruth");
        assert!(changes[0]["changed_at"].as_str() <= changes[1]["changed_at"].as_str());
        assert_eq!(changes[1]["settings"], stricter);

        // Other boards are untouched.
        let fife: Value = app
            .get_board_settings(&app.token(Role::BoardAdmin, &["fife"]), "fife")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(fife["defaults"], true);

        // Each change is on the stream with the same document, and audited.
        app.wait_for_events(2).await;
        let events = settings_events(&app).await;
        assert_eq!(events.len(), 2, "{}", backend.name());
        for ((subject, changed), expected) in events.iter().zip([&document, &stricter]) {
            assert_eq!(subject, "pathway.v1.highland.board.settings_changed");
            assert_eq!(changed.changed_by, "admin-ruth");
            assert_eq!(
                u64::from(changed.vetting_target_working_days),
                expected["vetting_target_working_days"]
                    .as_u64()
                    .expect("a number")
            );
            let carried: Value = serde_json::from_str(&changed.settings_json).expect("JSON");
            assert_eq!(&carried, expected);
        }
        assert_eq!(
            board_audit_rows(&app, "board.settings_changed", "highland").await,
            2
        );
        assert_eq!(settings_rows(&app).await, 2);
    }
}

#[tokio::test]
async fn bad_board_settings_are_refused_with_the_field_and_nothing_is_written() {
    type Case = (&'static str, fn(&mut Value), u16, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            "a vetting target of 0",
            |d| d["vetting_target_working_days"] = json!(0),
            422,
            &["vetting_target_working_days"],
        ),
        (
            "an outcome that does not exist",
            |d| d["disabled_outcomes"] = json!(["accept", "teleport"]),
            422,
            &["disabled_outcomes[1]"],
        ),
        (
            "an unknown field",
            |d| d["colour"] = json!("blue"),
            422,
            &["colour"],
        ),
        (
            "an unknown field inside a partner",
            |d| d["partners"][0]["phone"] = json!("0300 123 4567"),
            422,
            &["partners[0].phone"],
        ),
        (
            "a number as text",
            |d| d["claim_lease_minutes"] = json!("thirty"),
            422,
            &["claim_lease_minutes"],
        ),
        (
            "a date that does not exist",
            |d| d["extra_holidays"] = json!(["2026-02-30"]),
            422,
            &["extra_holidays[0]"],
        ),
        (
            "several problems at once",
            |d| {
                d["vetting_target_working_days"] = json!(0);
                d["opt_in_window_days"] = json!(365);
                d["priority_target_days"]["urgent"] = json!(100);
                d["outcome_labels"]["accept"] = json!(" ");
            },
            422,
            &[
                "vetting_target_working_days",
                "outcome_labels.accept",
                "priority_target_days",
                "opt_in_window_days",
            ],
        ),
    ];
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &["highland"]);
        for (what, breaks, status, fields) in &cases {
            let mut document = TestApp::example_board_settings();
            breaks(&mut document);
            let response = app
                .put_board_settings(&admin, "highland", &document.to_string())
                .await;
            assert_eq!(response.status(), *status, "{what} ({})", backend.name());
            let error: Value = response.json().await.expect("JSON");
            let named: Vec<&str> = error["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f["field"].as_str())
                .collect();
            assert_eq!(named, *fields, "{what}: {error}");
            assert!(error["message"].is_string());
        }
        // Not JSON at all, and not sent as JSON.
        let response = app
            .put_board_settings(&admin, "highland", "{\"vetting")
            .await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "body");
        let response = app
            .http
            .put(format!("{}/v1/boards/highland/settings", app.base))
            .bearer_auth(&admin)
            .header("Content-Type", "text/plain")
            .body(TestApp::example_board_settings().to_string())
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 415);

        // Nothing stored, announced or audited; the defaults still hold.
        assert_eq!(settings_rows(&app).await, 0, "{}", backend.name());
        assert_eq!(app.stream_count().await, 0);
        assert_eq!(
            board_audit_rows(&app, "board.settings_changed", "highland").await,
            0
        );
        let view: Value = app
            .get_board_settings(&admin, "highland")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(view["defaults"], true);
    }
}

#[tokio::test]
async fn only_a_board_admin_of_that_board_changes_its_settings() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let document = TestApp::example_board_settings().to_string();
        let broken = json!({"vetting_target_working_days": 0, "colour": "blue"}).to_string();
        for (who, token) in [
            ("a clinician", app.token(Role::Clinician, &["highland"])),
            ("a referrer", app.token(Role::Referrer, &["highland"])),
            ("an evaluator", app.token(Role::Evaluator, &["highland"])),
            (
                "another board's admin",
                app.token(Role::BoardAdmin, &["fife"]),
            ),
        ] {
            for body in [&document, &broken] {
                let response = app.put_board_settings(&token, "highland", body).await;
                // Refused before the body is looked at: a bad body is a 403 too.
                assert_eq!(response.status(), 403, "{who} ({})", backend.name());
            }
        }
        let response = app
            .put_board_settings(&app.token(Role::BoardAdmin, &["*"]), "atlantis", &document)
            .await;
        assert_eq!(response.status(), 404);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["fields"][0]["field"], "board");

        // Reading: the board's admins and clinicians only.
        for (who, token, status) in [
            (
                "its clinician",
                app.token(Role::Clinician, &["highland"]),
                200,
            ),
            ("its admin", app.token(Role::BoardAdmin, &["highland"]), 200),
            ("a referrer", app.token(Role::Referrer, &["highland"]), 403),
            (
                "an evaluator",
                app.token(Role::Evaluator, &["highland"]),
                403,
            ),
            (
                "another board's clinician",
                app.token(Role::Clinician, &["fife"]),
                403,
            ),
        ] {
            let response = app.get_board_settings(&token, "highland").await;
            assert_eq!(response.status(), status, "{who} ({})", backend.name());
        }
        let response = app
            .http
            .get(format!("{}/v1/boards/highland/settings", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 401);

        assert_eq!(settings_rows(&app).await, 0);
        assert_eq!(app.stream_count().await, 0);
    }
}

#[tokio::test]
async fn the_clinicians_question_reaches_the_referrer() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let referrer = app.token(Role::Referrer, &["highland"]);
        let id = app.refer(&valid_referral("highland")).await;
        let request_id = uuid::Uuid::now_v7().to_string();
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingClaimed(proto::VettingClaimed {
                    clinician: "dr-vetting".into(),
                    lease_expires_at: None,
                }),
            ),
            "q-claim",
        )
        .await;
        let question =
            "Has the patient had imaging of the lumbar spine? If so, when and what did it show?";
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingInfoRequested(proto::VettingInfoRequested {
                    information_request_id: request_id.clone(),
                    clinician: "dr-vetting".into(),
                    question: question.into(),
                }),
            ),
            "q-ask",
        )
        .await;
        let view = eventually(Duration::from_secs(10), || async {
            let view: Value = app.get_referral(&referrer, &id).await.json().await.ok()?;
            (view["status"] == "info_requested").then_some(view)
        })
        .await
        .expect("the request reaches intake");
        let asked = &view["information_requests"][0];
        assert_eq!(asked["id"], request_id.as_str(), "{}", backend.name());
        assert_eq!(asked["question"], question);
        assert_eq!(asked["requested_by"], "dr-vetting");
        assert_eq!(asked["answer"], Value::Null);

        // Other services reading the referral see the question too.
        let mut headers = async_nats::HeaderMap::new();
        let service = app.token_for("svc-notification", Role::Service, &["highland"]);
        headers.insert("Authorization", format!("Bearer {service}").as_str());
        let request = proto::ReferralLookupRequest {
            referral_id: id.clone(),
            purpose: "tell the referrer".into(),
        };
        let reply = app
            .nats
            .request_with_headers(
                pathway_proto::rpc::REFERRAL_LOOKUP,
                headers,
                request.encode_to_vec().into(),
            )
            .await
            .expect("intake replies");
        let reply =
            proto::ReferralLookupReply::decode(reply.payload).expect("a ReferralLookupReply");
        let Some(proto::referral_lookup_reply::Result::Referral(referral)) = reply.result else {
            panic!("no referral: {reply:?}");
        };
        assert_eq!(
            referral.information_requests[0].question.as_deref(),
            Some(question)
        );
    }
}
