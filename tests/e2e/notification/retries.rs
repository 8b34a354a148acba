//! Failures, refusals and sends in doubt: one message at most, whatever
//! the gateway or a crash does.

use std::time::Duration;

use chrono::Utc;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    Answer, NotifyGateway, TestApp, WebhookReceiver, decision_recorded,
};
use pathway_tests::referrals::valid_referral;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde_json::Value;

use super::{Setup, accept, patient, setup};

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
