//! Intake away (a routine restart, an outage) while decisions arrive: the
//! messages wait out the fault, retried with back-off and without a limit,
//! counted in `pathway_inbox_waiting`; none is dead-lettered for it, and
//! once intake is back each is sent exactly once. Poison arriving meanwhile
//! is still dead-lettered at its first delivery. Our own service token
//! refused (expired) is waited out the same way.

use std::time::{Duration, Instant};

use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver, decision_recorded};
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};

use super::{Setup, accept, setup};

/// Longer than the old retry budget (five deliveries in about 3 s).
const OUTAGE: Duration = Duration::from_secs(9);

/// Messages of the notification consumer waiting out a fault.
async fn waiting(app: &TestApp) -> f64 {
    app.metric("inbox_waiting", &["consumer=\"notification\""])
        .await
}

async fn retries(app: &TestApp) -> f64 {
    app.metric(
        "inbox_messages_total",
        &["consumer=\"notification\"", "outcome=\"retrying\""],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_wait_out_an_intake_outage_and_are_each_sent_once_it_is_back() {
    for backend in backends().await {
        let Setup {
            mut intake,
            gateway,
            receiver,
            mut app,
        } = setup(&backend, Workers::default()).await;
        let name = backend.name();
        let mut referrals = Vec::new();
        for _ in 0..3 {
            referrals.push(intake.refer(&valid_referral("highland")).await);
        }
        assert_eq!(waiting(&app).await, 0.0, "{name}: nothing waits before");

        // Intake goes away: look-ups get "no responders" at once.
        intake.stop().await;
        let stopped = Instant::now();
        for referral in &referrals {
            app.send(&decision_recorded("highland", referral, accept()))
                .await;
        }
        // Poison meanwhile (a board that does not exist) is dead-lettered at
        // its first delivery, outage or not.
        let poison = decision_recorded("atlantis", &uuid::Uuid::now_v7().to_string(), accept());
        app.send(&poison).await;
        let dead = app.wait_for_dead_letters(1).await;
        assert_eq!(dead.len(), 1, "{name}: {dead:?}");
        assert_eq!(dead[0].message_id, poison.event_id, "{name}");
        assert_eq!(dead[0].deliveries, 1, "{name}: dead-lettered at once");
        assert!(
            dead[0].reason.contains("board"),
            "{name}: {}",
            dead[0].reason
        );

        // The alert rises while the decisions wait.
        let risen = eventually(Duration::from_secs(5), || async {
            (waiting(&app).await == referrals.len() as f64).then_some(())
        })
        .await;
        assert!(risen.is_some(), "{name}: {} waiting", waiting(&app).await);
        tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
        assert_eq!(waiting(&app).await, referrals.len() as f64, "{name}");
        let tried = retries(&app).await;
        assert!(
            tried >= 5.0 * referrals.len() as f64,
            "{name}: each decision was tried more than the old limit of 5 ({tried} retries)"
        );
        assert_eq!(app.dead_letters().await.len(), 1, "{name}: only the poison");
        assert_eq!(gateway.posts(), 0, "{name}");
        assert!(receiver.hooks().is_empty(), "{name}");

        // Intake is back: every message is sent, once.
        let intake = intake
            .restart(pathway_intake::startup::Workers::default())
            .await;
        let sent = eventually(Duration::from_secs(45), || async {
            let mut all = Vec::new();
            for referral in &referrals {
                let rows = app.deliveries(referral).await;
                let settled = rows.len() == 2
                    && rows
                        .iter()
                        .all(|r| r.status == pathway_notification::store::delivery::Status::Sent);
                if !settled {
                    return None;
                }
                all.extend(rows);
            }
            Some(all)
        })
        .await;
        assert!(
            sent.is_some(),
            "{name}: every decision's deliveries were sent"
        );
        assert_eq!(
            gateway.posts(),
            referrals.len(),
            "{name}: one SMS each, once"
        );
        assert_eq!(gateway.taken().len(), referrals.len(), "{name}");
        assert_eq!(
            receiver.hooks().len(),
            referrals.len(),
            "{name}: one GP webhook each"
        );
        assert_eq!(app.dead_letters().await.len(), 1, "{name}: only the poison");

        // The alert falls back.
        let fallen = eventually(Duration::from_secs(5), || async {
            (waiting(&app).await == 0.0).then_some(())
        })
        .await;
        assert!(
            fallen.is_some(),
            "{name}: {} still waiting",
            waiting(&app).await
        );
        // Nothing more goes out later.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(gateway.posts(), referrals.len(), "{name}");
        assert_eq!(receiver.hooks().len(), referrals.len(), "{name}");

        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_token_intake_refuses_is_waited_out_until_it_is_replaced() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // Our token as intake sees an expired one: UNAUTHENTICATED.
        let app = TestApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| {
                settings.auth.service_token = Some("expired.service.token".to_owned().into())
            },
        )
        .await;
        let name = backend.name();
        let referral = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &referral, accept()))
            .await;

        let tried = eventually(Duration::from_secs(15), || async {
            (retries(&app).await >= 5.0).then_some(())
        })
        .await;
        assert!(tried.is_some(), "{name}: {} retries", retries(&app).await);
        assert_eq!(waiting(&app).await, 1.0, "{name}: the alert is up");
        assert!(
            app.dead_letters().await.is_empty(),
            "{name}: not dead-lettered"
        );
        assert_eq!(gateway.posts(), 0, "{name}");

        // The token is replaced (here: the service signs its own again).
        let mut settings = app.settings.clone();
        settings.auth.service_token = None;
        let mut app = app.crash_and_restart(settings).await;
        let sent = eventually(Duration::from_secs(45), || async {
            let rows = app.deliveries(&referral).await;
            (rows.len() == 2 && rows.iter().all(|r| r.status == Status::Sent)).then_some(rows)
        })
        .await;
        assert!(sent.is_some(), "{name}: sent once the token is good");
        assert_eq!(gateway.posts(), 1, "{name}");
        assert_eq!(receiver.hooks().len(), 1, "{name}");
        assert!(app.dead_letters().await.is_empty(), "{name}");
        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}
