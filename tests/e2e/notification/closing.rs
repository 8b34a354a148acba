//! A referral's ending (a withdrawal, a decline; the opt-in lapse is in
//! `patient_opt_in_reminder`) closes it only once everyone it had to tell
//! has been told: notification publishes `referral.closed`, with the
//! ending as its reason, in the transaction that records the last
//! delivery's end. A failed delivery counts as ended (it is on the board's
//! failed deliveries); a retry of it that later succeeds closes nothing
//! again. A board may keep a decline from the patient
//! (`notification.tell_patient_of_decline: false`).

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_notification::store::endings;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    Answer, NotifyGateway, TestApp, WebhookReceiver, decision_recorded,
};
use pathway_tests::referrals::valid_referral;
use pathway_tests::scale_out::another;
use pathway_tests::{backends, eventually};
use serde_json::{Value, json};

use super::{Setup, patient, setup};

/// The reasons of the `referral.closed` events on the stream for `referral`.
async fn closed(s: &Setup, referral: &str) -> Vec<String> {
    s.app
        .stream_events()
        .await
        .into_iter()
        .filter(|e| e.event.referral_id == referral)
        .filter_map(|e| match e.event.payload {
            Some(Payload::ReferralClosed(c)) => Some(c.reason),
            _ => None,
        })
        .collect()
}

/// Wait until `referral` is closed, and answer the reasons on the stream.
async fn wait_closed(s: &Setup, referral: &str) -> Vec<String> {
    eventually(Duration::from_secs(15), || async {
        Some(closed(s, referral).await).filter(|c| !c.is_empty())
    })
    .await
    .unwrap_or_else(|| panic!("referral.closed for {referral}"))
}

fn gp_message(
    rows: &[pathway_notification::store::delivery::Model],
) -> &pathway_notification::store::delivery::Model {
    rows.iter()
        .find(|r| r.template == "referrer/decision")
        .expect("the GP's message")
}

fn decline() -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Decline as i32,
        ..proto::Outcome::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_closes_the_referral_once_the_referrer_and_the_patient_are_told() {
    for backend in backends().await {
        // The sender stays off: the test sends, one step at a time.
        let workers = Workers {
            sweeps: false,
            ..Workers::default()
        };
        let s = setup(&backend, workers).await;
        let referrer = s.intake.token(Role::Referrer, &["highland"]);
        let id = s.intake.refer(&valid_referral("highland")).await;
        let response = s
            .intake
            .referral_action(
                &referrer,
                &id,
                "withdraw",
                &json!({"reason_code": "patient_request"}),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        let rows = s.app.wait_until_planned(&id, 2).await;
        assert!(rows.iter().all(|r| r.status == Status::Planned), "{rows:?}");

        // Planned, not yet told: nothing closed, however long we wait.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(closed(&s, &id).await.is_empty());
        let ending = endings::of_referral(&s.app.db, &id).await.expect("endings");
        assert_eq!(ending.len(), 1, "{ending:?}");
        assert_eq!(ending[0].reason, "withdrawn");
        assert!(ending[0].closed_at.is_none());

        let mut sent = 0;
        for _ in 0..3 {
            sent += s.app.app.try_send_due().await.expect("a send step");
        }
        assert_eq!(sent, 2);
        let rows = s.app.deliveries(&id).await;
        assert!(rows.iter().all(|r| r.status == Status::Sent), "{rows:?}");
        assert_eq!(wait_closed(&s, &id).await, ["withdrawn"]);
        let ending = endings::of_referral(&s.app.db, &id).await.expect("endings");
        let closed_at = ending[0].closed_at.expect("closed");
        assert!(
            rows.iter().all(|r| r.updated_at <= closed_at),
            "closed after the last end: {rows:?} {closed_at}"
        );

        // Intake keeps it withdrawn; nothing more is closed.
        let status = eventually(Duration::from_secs(10), || async {
            let referral: Value = s
                .intake
                .get_referral(&referrer, &id)
                .await
                .json()
                .await
                .ok()?;
            Some(referral["status"].clone()).filter(|s| s == "withdrawn")
        })
        .await;
        assert!(status.is_some(), "intake reads it as withdrawn");
        assert_eq!(s.app.app.try_send_due().await.expect("a send step"), 0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(closed(&s, &id).await, ["withdrawn"]);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_is_told_to_the_patient_unless_the_board_says_not_to_and_closes_either_way() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;

        // By default the patient is told too.
        let told = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &told, decline()))
            .await;
        let rows = s.app.wait_until_settled(&told, 2).await;
        let mut templates: Vec<&str> = rows.iter().map(|r| r.template.as_str()).collect();
        templates.sort_unstable();
        assert_eq!(
            templates,
            ["patient/decline", "referrer/decision"],
            "{}",
            backend.name()
        );
        // The GP's message waited for the patient's, and says how it went.
        let gp = gp_message(&rows);
        let sms = patient(&rows);
        assert!(gp.sent_at >= sms.sent_at, "{rows:?}");
        let today = pathway_proto::days::today().format("%-d %B %Y").to_string();
        assert!(
            gp.body
                .contains(&format!("The patient has been told by SMS on {today}.")),
            "{}",
            gp.body
        );
        assert_eq!(wait_closed(&s, &told).await, ["declined"]);

        // A board that says not to: only the referrer, and still closed.
        let mut document = pathway_tests::intake::TestApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "referrer_channel": "webhook",
            "gp_webhook_url": s.receiver.url("gp"),
            "allow_private_addresses": true,
            "allowed_hosts": ["127.0.0.1"],
            "tell_patient_of_decline": false,
        });
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        let saved = s
            .intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(saved.status(), 200, "{:?}", saved.text().await);
        eventually(Duration::from_secs(15), || async {
            s.app
                .board_notification("highland")
                .await
                .and_then(|row| row.notification_json)
                .filter(|json| json.contains("tell_patient_of_decline"))
        })
        .await
        .expect("notification keeps the board's settings");
        let quiet = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &quiet, decline()))
            .await;
        let rows = s.app.wait_until_settled(&quiet, 1).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].template, "referrer/decision");
        assert!(!rows[0].body.contains("patient has"), "{}", rows[0].body);
        assert_eq!(wait_closed(&s, &quiet).await, ["declined"]);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_patient_delivery_still_closes_is_on_the_failed_list_and_a_retry_closes_nothing_again()
 {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        // The patient's SMS is refused for good; the GP's webhook goes.
        s.gateway.script(&[Answer::Status(400)]);
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, decline()))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows).clone();
        assert_eq!(sms.status, Status::Failed, "{}: {rows:?}", backend.name());
        let gp = gp_message(&rows);
        assert_eq!(gp.status, Status::Sent);
        assert!(
            gp.body
                .contains("The patient could not be reached by SMS: the board has been told."),
            "{}",
            gp.body
        );
        assert_eq!(wait_closed(&s, &referral).await, ["declined"]);

        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let listed: Value = s
            .app
            .get(&admin, "/v1/deliveries?status=failed")
            .await
            .json()
            .await
            .expect("JSON");
        assert!(
            listed["deliveries"]
                .as_array()
                .expect("a list")
                .iter()
                .any(|d| d["id"] == sms.id.as_str()),
            "{listed}"
        );

        // Retried, and this time taken: still closed once.
        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert_eq!(retried.status(), 202, "{:?}", retried.text().await);
        let sent = eventually(Duration::from_secs(15), || async {
            s.app
                .deliveries(&referral)
                .await
                .into_iter()
                .find(|r| r.id == sms.id && r.status == Status::Sent)
        })
        .await;
        assert!(sent.is_some(), "the retry is sent");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(closed(&s, &referral).await, ["declined"]);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_recording_an_endings_last_deliveries_at_once_close_it_once() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // One delivery per batch: a decline's two deliveries (the GP's
        // webhook, the patient's SMS) are mostly recorded by two
        // transactions, often of the two instances at once.
        let first = TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| settings.sender.batch = 1,
        )
        .await;
        let second = another(&*first, Workers::default()).await;
        let mut referrals = Vec::new();
        for _ in 0..12 {
            let id = intake.refer(&valid_referral("highland")).await;
            first
                .send(&decision_recorded("highland", &id, decline()))
                .await;
            referrals.push(id);
        }
        for id in &referrals {
            first.wait_until_settled(id, 2).await;
        }
        let closes = |events: Vec<pathway_tests::StreamedEvent>| {
            referrals
                .iter()
                .map(|id| {
                    events
                        .iter()
                        .filter(|e| &e.event.referral_id == id)
                        .filter(|e| matches!(e.event.payload, Some(Payload::ReferralClosed(_))))
                        .count()
                })
                .collect::<Vec<usize>>()
        };
        let all_closed = eventually(Duration::from_secs(15), || async {
            let counts = closes(first.stream_events().await);
            counts.iter().all(|n| *n > 0).then_some(())
        })
        .await;
        assert!(
            all_closed.is_some(),
            "{}: every decline closed",
            backend.name()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            closes(first.stream_events().await),
            vec![1; referrals.len()],
            "{}: each closed once",
            backend.name()
        );
        drop(second);
    }
}
