//! Notification, black-box: the real service beside a real intake (the
//! contact details come from there over NATS request/reply), a real
//! nats-server, real databases (SQLite always, PostgreSQL when one answers),
//! and two real HTTP servers the test starts: one answering as GOV.UK
//! Notify's API does (checking the JWT and the body), one taking webhooks as
//! a GP system would (checking the signature); and a real SMTP server. Decisions and questions are
//! published onto the stream by hand, as decision and vetting would.

use std::time::Duration;

use chrono::Utc;
use pathway_common::auth::Role;
use pathway_notification::settings::{EmailGateway, ReferrerChannel};
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    Answer, CALLBACK_TOKEN, NotifyGateway, SmtpSink, TestApp, WebhookReceiver, decision_recorded,
    info_requested,
};
use pathway_tests::referrals::{set, valid_referral};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde_json::{Value, json};

fn accept() -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    }
}

struct Setup {
    intake: IntakeApp,
    gateway: NotifyGateway,
    receiver: WebhookReceiver,
    app: TestApp,
}

async fn setup(backend: &pathway_tests::Backend, workers: Workers) -> Setup {
    let intake = IntakeApp::spawn(backend).await;
    intake.enable_board("highland").await;
    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let app = TestApp::spawn(backend, &intake, &gateway, &receiver, workers).await;
    Setup {
        intake,
        gateway,
        receiver,
        app,
    }
}

impl Setup {
    async fn stop(mut self) {
        self.app.stop().await;
        self.intake.stop().await;
    }
}

fn patient(
    rows: &[pathway_notification::store::delivery::Model],
) -> &pathway_notification::store::delivery::Model {
    rows.iter()
        .find(|r| r.recipient == "patient")
        .expect("a delivery to the patient")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accept_sends_the_patient_an_sms_and_the_gp_a_signed_webhook() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert_eq!(rows.len(), 2, "{}", backend.name());
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        let sms = patient(&rows);
        assert_eq!(sms.channel, "sms");
        assert_eq!(sms.attempts, 1);
        assert_eq!(sms.address, "", "the mobile number is not kept once sent");

        let taken = s.gateway.taken();
        assert_eq!(taken.len(), 1, "one message at the gateway");
        assert_eq!(taken[0].kind, "sms");
        assert_eq!(
            taken[0].reference, sms.id,
            "the delivery id is the reference"
        );
        assert_eq!(taken[0].body["phone_number"], "07700900123");
        let text = taken[0].body["personalisation"]["body"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("Dear Morag"), "{text}");
        assert!(text.contains("by video call"), "{text}");
        assert!(text.contains("20 March 2026"), "{text}");
        assert_eq!(sms.gateway_id.as_deref(), Some(taken[0].id.as_str()));

        let hooks = s.receiver.hooks();
        assert_eq!(hooks.len(), 1);
        assert_eq!(s.receiver.bad_signatures(), 0);
        let gp = rows
            .iter()
            .find(|r| r.recipient == "referrer")
            .expect("to the GP");
        assert_eq!(hooks[0].path, "gp");
        assert_eq!(hooks[0].delivery, gp.id);
        assert_eq!(hooks[0].document["type"], "pathway.decision");
        assert_eq!(hooks[0].document["referral_id"], referral.as_str());
        assert_eq!(hooks[0].document["decision"]["outcome"], "accept");
        assert_eq!(hooks[0].document["decision"]["priority"], "routine");

        let events = s.app.wait_for_notification_events(&referral, 2).await;
        let sent: Vec<&proto::NotificationSent> = events
            .iter()
            .filter_map(|p| match p {
                Payload::NotificationSent(sent) => Some(sent),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 2);
        assert!(sent.iter().any(|e| e.delivery_id == sms.id
            && e.recipient == proto::Recipient::Patient as i32
            && e.channel == proto::Channel::Sms as i32));

        // A board admin and a clinician of the board see both; another board's do not.
        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let response = s
            .app
            .get(&admin, &format!("/v1/referrals/{referral}/deliveries"))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["deliveries"].as_array().map(Vec::len), Some(2));
        assert!(
            body["deliveries"][0].get("address").is_none(),
            "no contact details in the API"
        );
        let elsewhere = s.app.token(Role::BoardAdmin, &["fife"]);
        let response = s
            .app
            .get(&elsewhere, &format!("/v1/referrals/{referral}/deliveries"))
            .await;
        assert_eq!(response.status(), 404);
        let referrer = s.app.token(Role::Referrer, &["highland"]);
        let response = s
            .app
            .get(&referrer, &format!("/v1/referrals/{referral}/deliveries"))
            .await;
        assert_eq!(response.status(), 403);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_hears_the_way_they_asked_to() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let mut by_email = valid_referral("highland");
        set(&mut by_email, "patient.contact.preferred", json!("email"));
        let by_email = s.intake.refer(&by_email).await;
        let mut by_letter = valid_referral("highland");
        set(&mut by_letter, "patient.contact.preferred", json!("letter"));
        let by_letter = s.intake.refer(&by_letter).await;
        let physio = proto::Outcome {
            kind: proto::OutcomeKind::Physiotherapy as i32,
            ..proto::Outcome::default()
        };
        s.app
            .send(&decision_recorded("highland", &by_email, physio.clone()))
            .await;
        s.app
            .send(&decision_recorded("highland", &by_letter, physio))
            .await;

        let email = patient(&s.app.wait_until_settled(&by_email, 2).await).clone();
        let letter = patient(&s.app.wait_until_settled(&by_letter, 2).await).clone();
        assert_eq!(
            (email.channel.as_str(), email.status),
            ("email", Status::Sent)
        );
        assert_eq!(
            (letter.channel.as_str(), letter.status),
            ("letter", Status::Sent)
        );

        let taken = s.gateway.taken();
        assert_eq!(taken.len(), 2, "{}", backend.name());
        let sent_email = taken
            .iter()
            .find(|t| t.reference == email.id)
            .expect("the e-mail");
        assert_eq!(sent_email.kind, "email");
        assert_eq!(
            sent_email.body["email_address"],
            "morag.macleod@example.org"
        );
        assert!(sent_email.body.get("phone_number").is_none());
        let sent_letter = taken
            .iter()
            .find(|t| t.reference == letter.id)
            .expect("the letter");
        assert_eq!(sent_letter.kind, "letter");
        let p = &sent_letter.body["personalisation"];
        assert!(
            p["address_line_1"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Morag MacLeod")
        );
        assert_eq!(p["address_line_2"], "12 Culduthel Road");
        assert_eq!(p["address_line_4"], "IV2 4AG", "the postcode last");
        assert!(
            p["body"]
                .as_str()
                .unwrap_or_default()
                .contains("physiotherapy")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_failing_twice_then_throttling_delivers_exactly_one_message() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        s.gateway
            .script(&[Answer::Status(500), Answer::Status(503), Answer::TooMany(1)]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let started = std::time::Instant::now();
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows);
        assert_eq!(sms.status, Status::Sent, "{}: {sms:?}", backend.name());
        assert_eq!(sms.attempts, 4, "two 5xx, one 429, then taken");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "the 429's Retry-After was honoured"
        );
        assert_eq!(s.gateway.posts(), 4);
        assert_eq!(s.gateway.taken().len(), 1, "exactly one message delivered");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_not_retried_fails_with_its_reason_and_can_be_sent_again_by_an_admin() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        s.gateway.script(&[Answer::Status(400)]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows).clone();
        assert_eq!(sms.status, Status::Failed, "{}", backend.name());
        assert_eq!(sms.attempts, 1, "a 400 is not retried");
        assert!(
            sms.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("400"),
            "{sms:?}"
        );
        assert_eq!(s.gateway.posts(), 1);

        let events = s.app.wait_for_notification_events(&referral, 2).await;
        let failed: Vec<&proto::NotificationFailed> = events
            .iter()
            .filter_map(|p| match p {
                Payload::NotificationFailed(f) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].delivery_id, sms.id);
        assert_eq!(failed[0].attempts, 1);
        assert!(failed[0].reason.contains("400"));

        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let listed: Value = s
            .app
            .get(&admin, "/v1/deliveries?status=failed")
            .await
            .json()
            .await
            .expect("JSON");
        let ids: Vec<&str> = listed["deliveries"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|d| d["id"].as_str())
            .collect();
        assert_eq!(ids, vec![sms.id.as_str()]);
        let bad = s.app.get(&admin, "/v1/deliveries?status=lost").await;
        assert_eq!(bad.status(), 422);
        let clinician = s.app.token(Role::Clinician, &["highland"]);
        assert_eq!(
            s.app
                .get(&clinician, "/v1/deliveries?status=failed")
                .await
                .status(),
            403
        );
        assert_eq!(
            s.app
                .post(&clinician, &format!("/v1/deliveries/{}/retry", sms.id))
                .await
                .status(),
            403
        );

        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert_eq!(retried.status(), 202);
        let again = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert!(
            again.status() == 409 || again.status() == 202,
            "{}",
            again.status()
        );
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows);
        assert_eq!(sms.status, Status::Sent);
        assert_eq!(sms.attempts, 2);
        assert_eq!(s.gateway.taken().len(), 1);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_left_sending_is_looked_up_by_reference_and_never_sent_twice() {
    for backend in backends().await {
        // The sender stays off: the test plays the crash, then runs one step.
        let workers = Workers {
            sweeps: false,
            ..Workers::default()
        };
        let s = setup(&backend, workers).await;
        let first = s.intake.refer(&valid_referral("highland")).await;
        let second = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &first, accept()))
            .await;
        s.app
            .send(&decision_recorded("highland", &second, accept()))
            .await;
        let first_sms = patient(&s.app.wait_until_planned(&first, 2).await).clone();
        let second_sms = patient(&s.app.wait_until_planned(&second, 2).await).clone();

        // A worker died mid-send on both: the gateway took the first before
        // the crash, not the second.
        s.gateway.already_has("sms", &first_sms.id);
        for row in [&first_sms, &second_sms] {
            let mut active = row.clone().into_active_model();
            active.status = Set(Status::Sending);
            active.claims = Set(row.claims + 1);
            active.lease_until = Set(Some(Utc::now() - chrono::Duration::seconds(1)));
            active.update(&s.app.db).await.expect("play the crash");
        }

        let mut finished = 0;
        for _ in 0..5 {
            finished += s.app.app.try_send_due().await.expect("a send step");
        }
        assert_eq!(finished, 4, "{}", backend.name());
        let first_sms = patient(&s.app.deliveries(&first).await).clone();
        let second_sms = patient(&s.app.deliveries(&second).await).clone();
        assert_eq!(first_sms.status, Status::Sent);
        assert_eq!(
            first_sms.attempts, 0,
            "found at the gateway: not sent again"
        );
        assert_eq!(second_sms.status, Status::Sent);
        assert_eq!(second_sms.attempts, 1);
        let taken = s.gateway.taken();
        assert_eq!(
            taken.iter().filter(|t| t.reference == first_sms.id).count(),
            1
        );
        assert_eq!(
            taken
                .iter()
                .filter(|t| t.reference == second_sms.id)
                .count(),
            1
        );
        assert_eq!(s.gateway.posts(), 1, "only the second was posted");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_takes_the_message_but_times_out_is_not_sent_twice() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        s.gateway
            .script(&[Answer::TakeThenStall(Duration::from_secs(2))]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows);
        assert_eq!(sms.status, Status::Sent, "{}: {sms:?}", backend.name());
        assert_eq!(sms.attempts, 1, "timed out once, then found by reference");
        assert_eq!(s.gateway.posts(), 1);
        assert_eq!(s.gateway.taken().len(), 1);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_from_the_clinician_reaches_the_referrer() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let question = "Has she had imaging of the lumbar spine?";
        s.app
            .send(&info_requested("highland", &referral, question))
            .await;

        let rows = s.app.wait_until_settled(&referral, 1).await;
        assert_eq!(
            rows.len(),
            1,
            "{}: only the referrer is asked",
            backend.name()
        );
        assert_eq!(rows[0].recipient, "referrer");
        assert_eq!(rows[0].status, Status::Sent);
        let hooks = s.receiver.hooks();
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].document["type"], "pathway.information_request");
        assert_eq!(hooks[0].document["question"], question);
        assert!(
            hooks[0].document["message"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains(question)
        );
        assert!(s.gateway.taken().is_empty(), "the patient is not messaged");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_self_management_referral_reaches_the_partner() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let outcome = proto::Outcome {
            kind: proto::OutcomeKind::SelfManagement as i32,
            partner: "pain-association-scotland".into(),
            ..proto::Outcome::default()
        };
        s.app
            .send(&decision_recorded("highland", &referral, outcome))
            .await;

        let rows = s.app.wait_until_settled(&referral, 3).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        let hooks = s.receiver.hooks();
        let partner = hooks
            .iter()
            .find(|h| h.path == "partner")
            .expect("to the partner");
        assert_eq!(partner.document["type"], "pathway.onward_referral");
        assert_eq!(partner.document["service"], "pain-association-scotland");
        assert_eq!(partner.document["patient"]["given_name"], "Morag");
        assert_eq!(partner.document["patient"]["mobile"], "07700900123");
        let sms = &s.gateway.taken()[0];
        assert!(
            sms.body["personalisation"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains("Pain Association Scotland")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_callback_marks_a_message_that_never_arrived_as_failed() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows).clone();
        let gateway_id = sms.gateway_id.clone().expect("the gateway's id");
        let callback = |status: &str| {
            json!({
                "id": gateway_id, "reference": sms.id, "to": "07700900123",
                "status": status, "notification_type": "sms",
                "created_at": "2026-01-01T00:00:00.000000Z",
            })
        };

        let forged = s
            .app
            .callback("not-the-token", &callback("delivered"))
            .await;
        assert_eq!(forged.status(), 401, "{}", backend.name());
        let unknown = s
            .app
            .callback(
                CALLBACK_TOKEN,
                &json!({"id": "x", "reference": uuid::Uuid::now_v7().to_string(), "status": "delivered"}),
            )
            .await;
        assert_eq!(unknown.status(), 404);

        let delivered = s.app.callback(CALLBACK_TOKEN, &callback("delivered")).await;
        assert_eq!(delivered.status(), 204);
        let row = patient(&s.app.deliveries(&referral).await).clone();
        assert_eq!(
            (row.status, row.gateway_status.as_deref()),
            (Status::Sent, Some("delivered"))
        );

        let failed = s
            .app
            .callback(CALLBACK_TOKEN, &callback("permanent-failure"))
            .await;
        assert_eq!(failed.status(), 204);
        let row = patient(&s.app.deliveries(&referral).await).clone();
        assert_eq!(row.status, Status::Failed);
        assert!(
            row.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("permanent-failure")
        );
        let events = s.app.wait_for_notification_events(&referral, 3).await;
        assert!(events.iter().any(|p| matches!(p,
            Payload::NotificationFailed(f) if f.delivery_id == sms.id)));

        // The number was emptied once sent: a retry asks intake again.
        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert_eq!(retried.status(), 202);
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert_eq!(patient(&rows).status, Status::Sent);
        let taken = s.gateway.taken();
        assert_eq!(taken.len(), 2, "sent again, once");
        assert_eq!(taken[1].body["phone_number"], "07700900123");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_and_restarted_the_service_sends_nothing_twice() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // The service waits for the gateway's answer long enough to die first.
        let app = TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| settings.notify.timeout_ms = 60_000,
        )
        .await;
        let s = Setup {
            intake,
            gateway,
            receiver,
            app,
        };
        // The gateway takes the SMS and holds the answer; the service dies
        // while it waits.
        s.gateway
            .script(&[Answer::TakeThenStall(Duration::from_secs(30))]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;
        let taken = pathway_tests::eventually(Duration::from_secs(15), || async {
            (!s.gateway.taken().is_empty()).then_some(())
        })
        .await;
        assert!(
            taken.is_some(),
            "{}: the gateway took the SMS",
            backend.name()
        );
        let in_flight = patient(&s.app.deliveries(&referral).await).clone();
        assert_eq!(in_flight.status, Status::Sending);

        let mut settings = s.app.settings.clone();
        settings.http = pathway_common::settings::HttpSettings::with_port(0);
        let Setup {
            mut intake,
            gateway,
            receiver: _receiver,
            app,
        } = s;
        let mut app = app.crash_and_restart(settings).await;
        // Time passes: the dead worker's leases run out.
        app.lapse_leases(&referral).await;

        let rows = app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows);
        assert_eq!(sms.status, Status::Sent, "{sms:?}");
        assert_eq!(
            gateway.posts(),
            1,
            "looked up by reference, not posted again"
        );
        assert_eq!(gateway.taken().len(), 1, "the patient got one SMS");
        assert_eq!(
            sms.gateway_id.as_deref(),
            Some(gateway.taken()[0].id.as_str())
        );
        let events = app.wait_for_notification_events(&referral, 2).await;
        let about_sms = events
            .iter()
            .filter(|p| matches!(p, Payload::NotificationSent(e) if e.delivery_id == sms.id))
            .count();
        assert_eq!(about_sms, 1, "one notification.sent for the SMS");
        app.stop().await;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_gateway_configured_each_message_is_a_file_to_open() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // The embedded default: every board's channels as shipped.
        let mut app = TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| {
                settings.board_defaults = pathway_notification::settings::BoardChannels::default();
            },
        )
        .await;
        let referral = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &referral, accept()))
            .await;

        let rows = app.wait_until_settled(&referral, 2).await;
        assert!(
            rows.iter()
                .all(|r| r.status == Status::Sent && r.gateway.as_deref() == Some("sink"))
        );
        let folder = app.settings.sink.dir.join("highland").join(&referral);
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .expect("a folder per referral")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{}: {files:?}", backend.name());
        let sms = patient(&rows);
        let text = std::fs::read_to_string(folder.join(format!("{}.sms.txt", sms.id)))
            .expect("the patient's SMS");
        assert!(text.contains("To: 07700900123"), "{text}");
        assert!(text.contains("Dear Morag"), "{text}");
        assert!(gateway.taken().is_empty() && receiver.hooks().is_empty());
        app.stop().await;
        intake.stop().await;
    }
}

/// Intake, the Notify stand-in, the webhook receiver, and a notification
/// service whose boards send their e-mail to a real SMTP server.
async fn setup_smtp(
    backend: &pathway_tests::Backend,
    referrer_channel: ReferrerChannel,
) -> (Setup, SmtpSink) {
    let intake = IntakeApp::spawn(backend).await;
    intake.enable_board("highland").await;
    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let smtp = SmtpSink::start();
    let app = TestApp::spawn_with(
        backend,
        &intake,
        &gateway,
        &receiver,
        Workers::default(),
        |settings| {
            settings.smtp = smtp.settings();
            settings.board_defaults.email = Some(EmailGateway::Smtp);
            settings.board_defaults.referrer_channel = referrer_channel;
        },
    )
    .await;
    (
        Setup {
            intake,
            gateway,
            receiver,
            app,
        },
        smtp,
    )
}

fn prefers_email(board: &str) -> Value {
    let mut referral = valid_referral(board);
    set(&mut referral, "patient.contact.preferred", json!("email"));
    referral
}

fn physiotherapy() -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Physiotherapy as i32,
        ..proto::Outcome::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_who_prefers_email_gets_one_email_over_smtp_and_the_gp_too() {
    for backend in backends().await {
        let (s, smtp) = setup_smtp(&backend, ReferrerChannel::Email).await;
        let referral = s.intake.refer(&prefers_email("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, physiotherapy()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert!(
            rows.iter()
                .all(|r| r.status == Status::Sent && r.gateway.as_deref() == Some("smtp")),
            "{}: {rows:?}",
            backend.name()
        );
        let email = patient(&rows);
        assert_eq!((email.channel.as_str(), email.attempts), ("email", 1));
        let message_id = format!("<{}@pathway.highland.example.org>", email.id);
        assert_eq!(email.gateway_id.as_deref(), Some(message_id.as_str()));

        let mails = smtp.mails();
        assert_eq!(mails.len(), 2, "one to the patient, one to the GP");
        assert_eq!(smtp.transactions(), 2);
        let to_patient: Vec<_> = mails
            .iter()
            .filter(|m| m.recipients == ["morag.macleod@example.org"])
            .collect();
        assert_eq!(to_patient.len(), 1, "exactly one e-mail to the patient");
        let mail = to_patient[0];
        assert_eq!(
            mail.header("To").as_deref(),
            Some("morag.macleod@example.org")
        );
        assert_eq!(
            mail.header("From").as_deref(),
            Some("\"NHS Highland pain service\" <pain.service@highland.example.org>")
        );
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("Your referral: physiotherapy")
        );
        assert_eq!(
            mail.header("Message-ID").as_deref(),
            Some(message_id.as_str())
        );
        let body = mail.body();
        assert!(body.contains("Dear Morag"), "{body}");
        assert!(body.contains("referred you to physiotherapy"), "{body}");

        let gp = mails
            .iter()
            .find(|m| m.recipients == ["ann.smith@practice.example.org"])
            .expect("the GP's e-mail");
        assert!(
            gp.body().contains(&referral),
            "the GP's message names the referral"
        );
        assert!(s.gateway.taken().is_empty(), "nothing through Notify");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_answering_451_twice_then_accepting_gets_one_message() {
    for backend in backends().await {
        let (s, smtp) = setup_smtp(&backend, ReferrerChannel::Webhook).await;
        smtp.script(&[451, 451]);
        let referral = s.intake.refer(&prefers_email("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, physiotherapy()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        let email = patient(&rows);
        assert_eq!(email.status, Status::Sent, "{}: {email:?}", backend.name());
        assert_eq!(email.attempts, 3, "two 451s, then taken");
        assert_eq!(smtp.transactions(), 3);
        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "exactly one message delivered");
        assert_eq!(
            mails[0].header("Message-ID"),
            Some(format!("<{}@pathway.highland.example.org>", email.id))
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_550_is_not_retried_and_the_delivery_fails_with_the_reason() {
    for backend in backends().await {
        let (s, smtp) = setup_smtp(&backend, ReferrerChannel::Webhook).await;
        smtp.script(&[550]);
        let referral = s.intake.refer(&prefers_email("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, physiotherapy()))
            .await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        let email = patient(&rows);
        assert_eq!(
            email.status,
            Status::Failed,
            "{}: {email:?}",
            backend.name()
        );
        assert_eq!(email.attempts, 1, "a 550 is not retried");
        let reason = email.last_error.as_deref().unwrap_or_default();
        assert!(reason.contains("550"), "{reason}");
        assert_eq!(smtp.transactions(), 1);
        assert!(smtp.mails().is_empty());

        let events = s.app.wait_for_notification_events(&referral, 2).await;
        assert!(events.iter().any(|p| matches!(p,
            Payload::NotificationFailed(f) if f.delivery_id == email.id && f.reason.contains("550"))));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_admin_changes_channels_and_templates_and_the_next_decision_uses_them_without_a_restart()
 {
    for backend in backends().await {
        // As configured: the GP hears by webhook, the patient by SMS through
        // Notify, e-mail would go over SMTP.
        let (s, smtp) = setup_smtp(&backend, ReferrerChannel::Webhook).await;
        let before = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &before, accept()))
            .await;
        let rows = s.app.wait_until_settled(&before, 2).await;
        assert!(
            rows.iter().all(|r| r.status == Status::Sent),
            "{}: {rows:?}",
            backend.name()
        );
        assert_eq!(s.receiver.hooks().len(), 1, "the GP by webhook");
        assert!(smtp.mails().is_empty());
        let text = |t: &pathway_tests::notification::Taken| {
            t.body["personalisation"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        assert!(text(&s.gateway.taken()[0]).contains("A pain specialist has read your referral"));

        // The board admin tells the GP by e-mail from now on, in the board's
        // own words for an accept.
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "email": "smtp",
            "webhooks": "http",
            "referrer_channel": "email",
            "receiving_services": {},
            "templates": {
                "patient/accept": "Your pain clinic appointment\nHello {{ patient_name }}. NHS {{ board_name }}'s pain clinic will see you{% if target_date %} by {{ target_date }}{% endif %}. We will write with a date."
            },
        });
        let response = s
            .intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let kept = pathway_tests::eventually(Duration::from_secs(15), || async {
            s.app
                .board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await
        .expect("notification keeps the board's new settings");
        assert!(kept.changed_by.contains("board_admin"), "{kept:?}");

        let after = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &after, accept()))
            .await;
        let rows = s.app.wait_until_settled(&after, 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        let gp = rows
            .iter()
            .find(|r| r.recipient == "referrer")
            .expect("to the GP");
        assert_eq!(
            (gp.channel.as_str(), gp.gateway.as_deref()),
            ("email", Some("smtp"))
        );
        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "the GP's e-mail");
        assert_eq!(mails[0].recipients, ["ann.smith@practice.example.org"]);
        assert!(mails[0].body().contains(&after));
        assert_eq!(s.receiver.hooks().len(), 1, "no new webhook");
        let sms = patient(&rows);
        let taken = s.gateway.taken();
        let sent = taken
            .iter()
            .find(|t| t.reference == sms.id)
            .expect("the SMS");
        assert_eq!(
            text(sent),
            "Hello Morag. NHS Highland's pain clinic will see you by 20 March 2026. We will write with a date."
        );
        assert_eq!(
            sent.body["personalisation"]["subject"],
            "Your pain clinic appointment"
        );

        // A template with a syntax error is refused by intake, naming the
        // field, and nothing changes.
        let mut broken = document.clone();
        broken["notification"]["templates"]["patient/accept"] =
            json!("Your appointment\n{% if target_date %}by {{ target_date }}");
        let response = s
            .intake
            .put_board_settings(&admin, "highland", &broken.to_string())
            .await;
        assert_eq!(response.status(), 422);
        let error: Value = response.json().await.expect("JSON");
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(fields, ["notification.templates.patient/accept"], "{error}");
        let stored: Value = s
            .intake
            .get_board_settings(&admin, "highland")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(stored["settings"], document, "nothing stored");
        assert_eq!(
            s.app
                .board_notification("highland")
                .await
                .map(|r| r.event_id),
            Some(kept.event_id)
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_consumer_made_before_board_settings_were_followed_is_widened_at_start() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        // An existing deployment: the consumer as an earlier notification made it.
        let nats = pathway_common::bus::connect(&intake.settings.nats, "test")
            .await
            .expect("the test connects to NATS");
        let jetstream = async_nats::jetstream::new(nats);
        let stream = jetstream
            .get_stream(pathway_proto::stream::NAME)
            .await
            .expect("the pathway stream");
        stream
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                durable_name: Some("notification".into()),
                filter_subjects: vec![
                    proto::filter_all_boards("decision", Some("recorded")),
                    proto::filter_all_boards("vetting", Some("info_requested")),
                ],
                ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await
            .expect("the old consumer");

        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let mut app =
            TestApp::spawn(&backend, &intake, &gateway, &receiver, Workers::default()).await;
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>("notification")
            .await
            .expect("the consumer");
        let info = consumer.info().await.expect("its configuration");
        assert!(
            info.config
                .filter_subjects
                .contains(&proto::filter_all_boards("board", Some("settings_changed"))),
            "{}: {:?}",
            backend.name(),
            info.config.filter_subjects
        );

        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        let response = intake
            .put_board_settings(
                &admin,
                "highland",
                &IntakeApp::example_board_settings().to_string(),
            )
            .await;
        assert_eq!(response.status(), 200);
        let kept = pathway_tests::eventually(Duration::from_secs(15), || async {
            app.board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await;
        assert!(kept.is_some(), "the board's settings reach notification");
        app.stop().await;
        intake.stop().await;
    }
}

/// The JWT of each message a stand-in took named its account's service, and
/// no request came to it signed with another account's key.
fn taken_by(gateway: &NotifyGateway, reference: &str) -> pathway_tests::notification::Taken {
    assert_eq!(gateway.refused_tokens(), 0, "no token of another account");
    let taken = gateway
        .taken()
        .into_iter()
        .find(|t| t.reference == reference)
        .expect("the message at this account's gateway");
    assert_eq!(taken.iss, gateway.service_id(), "signed as this account");
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_boards_with_their_own_notify_accounts_each_send_through_their_own() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        intake.enable_board("lothian").await;
        let shared = NotifyGateway::start().await;
        let highland = NotifyGateway::start().await;
        let lothian = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let highland_account = highland.account("highland-callback-token");
        let lothian_account = lothian.account("lothian-callback-token");
        let app = TestApp::spawn_with(
            &backend,
            &intake,
            &shared,
            &receiver,
            Workers::default(),
            |settings| {
                settings
                    .notify_accounts
                    .insert("highland".into(), highland_account.clone());
                settings
                    .notify_accounts
                    .insert("lothian".into(), lothian_account.clone());
                for board in ["highland", "lothian"] {
                    let mut channels = settings.board_defaults.clone();
                    channels.notify_account = Some(board.into());
                    settings.boards.insert(board.into(), channels);
                }
            },
        )
        .await;

        let from_highland = intake.refer(&valid_referral("highland")).await;
        let from_lothian = intake.refer(&valid_referral("lothian")).await;
        app.send(&decision_recorded("highland", &from_highland, accept()))
            .await;
        app.send(&decision_recorded("lothian", &from_lothian, accept()))
            .await;
        let highland_rows = app.wait_until_settled(&from_highland, 2).await;
        let lothian_rows = app.wait_until_settled(&from_lothian, 2).await;
        let highland_sms = patient(&highland_rows).clone();
        let lothian_sms = patient(&lothian_rows).clone();
        for (sms, account) in [(&highland_sms, "highland"), (&lothian_sms, "lothian")] {
            assert_eq!(sms.status, Status::Sent, "{}: {sms:?}", backend.name());
            assert_eq!(sms.account.as_deref(), Some(account));
        }

        let taken = taken_by(&highland, &highland_sms.id);
        assert_eq!(
            taken.body["template_id"],
            highland_account.sms_template_id.as_str()
        );
        assert_eq!(highland.taken().len(), 1, "only highland's message");
        let taken = taken_by(&lothian, &lothian_sms.id);
        assert_eq!(
            taken.body["template_id"],
            lothian_account.sms_template_id.as_str()
        );
        assert_eq!(lothian.taken().len(), 1, "only lothian's message");
        assert_eq!(shared.posts(), 0, "nothing through the default account");

        // Each account's callbacks speak only of its own deliveries.
        let callback = |sms: &pathway_notification::store::delivery::Model| {
            json!({
                "id": sms.gateway_id, "reference": sms.id,
                "status": "delivered", "notification_type": "sms",
            })
        };
        let elsewhere = app
            .callback("highland-callback-token", &callback(&lothian_sms))
            .await;
        assert_eq!(
            elsewhere.status(),
            404,
            "not sent through highland's account"
        );
        let default = app.callback(CALLBACK_TOKEN, &callback(&lothian_sms)).await;
        assert_eq!(
            default.status(),
            404,
            "not sent through the default account"
        );
        let own = app
            .callback("lothian-callback-token", &callback(&lothian_sms))
            .await;
        assert_eq!(own.status(), 204);
        let own = app
            .callback("highland-callback-token", &callback(&highland_sms))
            .await;
        assert_eq!(own.status(), 204);
        for referral in [&from_highland, &from_lothian] {
            let row = patient(&app.deliveries(referral).await).clone();
            assert_eq!(row.gateway_status.as_deref(), Some("delivered"));
        }

        let mut app = app;
        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_switched_to_another_notify_account_uses_it_next_and_an_unknown_account_is_refused()
{
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let shared = NotifyGateway::start().await;
        let highland = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let highland_account = highland.account("highland-callback-token");
        let app = TestApp::spawn_with(
            &backend,
            &intake,
            &shared,
            &receiver,
            Workers::default(),
            |settings| {
                settings
                    .notify_accounts
                    .insert("highland".into(), highland_account.clone());
            },
        )
        .await;

        // The shared account, until the board names its own.
        let before = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &before, accept()))
            .await;
        let sms = patient(&app.wait_until_settled(&before, 2).await).clone();
        assert_eq!(sms.status, Status::Sent, "{}: {sms:?}", backend.name());
        assert_eq!(sms.account.as_deref(), Some("default"));
        taken_by(&shared, &sms.id);
        assert_eq!(
            shared.taken()[0].body["template_id"],
            app.settings.notify.sms_template_id.as_str()
        );

        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "gp_webhook_url": receiver.url("gp"),
            "notify_account": "highland",
        });
        let response = intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let kept = pathway_tests::eventually(Duration::from_secs(15), || async {
            app.board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await
        .expect("notification keeps the board's new settings");

        let after = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &after, accept()))
            .await;
        let sms = patient(&app.wait_until_settled(&after, 2).await).clone();
        assert_eq!(sms.status, Status::Sent, "{sms:?}");
        assert_eq!(sms.account.as_deref(), Some("highland"));
        let taken = taken_by(&highland, &sms.id);
        assert_eq!(
            taken.body["template_id"],
            highland_account.sms_template_id.as_str()
        );
        assert_eq!(shared.posts(), 1, "nothing more through the shared account");

        // An account this deployment does not have: intake cannot know, so
        // it stores it; notification refuses it and keeps what it had.
        let mut unknown = document.clone();
        unknown["notification"]["notify_account"] = json!("grampian");
        let response = intake
            .put_board_settings(&admin, "highland", &unknown.to_string())
            .await;
        assert_eq!(response.status(), 200);
        let dead = pathway_tests::eventually(Duration::from_secs(15), || async {
            app.dead_letters()
                .await
                .into_iter()
                .find(|d| d.reason.contains("grampian"))
        })
        .await
        .expect("the settings naming an unknown account are dead-lettered");
        assert!(dead.reason.contains("Notify account"), "{}", dead.reason);
        assert_eq!(
            app.board_notification("highland").await.map(|r| r.event_id),
            Some(kept.event_id),
            "the board keeps the settings it had"
        );

        let later = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &later, accept()))
            .await;
        let sms = patient(&app.wait_until_settled(&later, 2).await).clone();
        assert_eq!(sms.status, Status::Sent, "{sms:?}");
        assert_eq!(sms.account.as_deref(), Some("highland"));
        taken_by(&highland, &sms.id);
        assert_eq!(highland.taken().len(), 2);
        assert_eq!(shared.posts(), 1);

        let mut app = app;
        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_in_doubt_is_looked_up_through_the_account_that_sent_it() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let shared = NotifyGateway::start().await;
        let highland = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let highland_account = highland.account("highland-callback-token");
        let workers = Workers {
            sweeps: false,
            ..Workers::default()
        };
        let app = TestApp::spawn_with(&backend, &intake, &shared, &receiver, workers, |settings| {
            settings
                .notify_accounts
                .insert("highland".into(), highland_account.clone());
            settings.board_defaults.notify_account = Some("highland".into());
        })
        .await;
        let referral = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &referral, accept()))
            .await;
        let sms = patient(&app.wait_until_planned(&referral, 2).await).clone();
        assert_eq!(
            sms.account.as_deref(),
            Some("highland"),
            "{}",
            backend.name()
        );

        // Sent through highland's account by a worker that died before it
        // heard back; meanwhile the board went back to the shared account.
        highland.already_has("sms", &sms.id);
        let mut active = sms.clone().into_active_model();
        active.status = Set(Status::Sending);
        active.claims = Set(sms.claims + 1);
        active.lease_until = Set(Some(Utc::now() - chrono::Duration::seconds(1)));
        active.update(&app.db).await.expect("play the crash");
        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({"messages": "notify", "webhooks": "sink"});
        let response = intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(response.status(), 200);
        pathway_tests::eventually(Duration::from_secs(15), || async {
            app.board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await
        .expect("notification keeps the board's new settings");

        for _ in 0..3 {
            app.app.try_send_due().await.expect("a send step");
        }
        let row = patient(&app.deliveries(&referral).await).clone();
        assert_eq!(row.status, Status::Sent, "{row:?}");
        assert_eq!(row.attempts, 0, "found where it was sent: not sent again");
        assert_eq!(row.account.as_deref(), Some("highland"));
        assert_eq!(highland.posts(), 0);
        assert_eq!(highland.refused_tokens(), 0);
        assert_eq!(
            shared.posts(),
            0,
            "never sent again through the other account"
        );

        let mut app = app;
        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}
