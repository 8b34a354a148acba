//! Webhooks go only where a board said: a redirect is not followed, no more
//! than a capped part of any answer is read, and a loopback address is
//! refused unless the board's settings allow private addresses.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::{self, Status};
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver, decision_recorded};
use pathway_tests::referrals::valid_referral;
use serde_json::json;

use super::{accept, patient};

/// A GP system that misbehaves: `/redirect` answers 307 to `target`, and
/// `/endless` answers 400 with an error page that never ends.
async fn misbehaving(target: String) -> String {
    let app =
        Router::new()
            .route(
                "/redirect",
                post(move || async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)])
                }),
            )
            .route(
                "/endless",
                post(|| async {
                    let start = futures::stream::once(async {
                        Ok::<_, Infallible>(Bytes::from_static(b"refused: "))
                    });
                    let chunk = Bytes::from(vec![b'x'; 8192]);
                    let rest = futures::stream::repeat_with(move || Ok(chunk.clone()));
                    (
                        StatusCode::BAD_REQUEST,
                        Body::from_stream(futures::StreamExt::chain(start, rest)),
                    )
                        .into_response()
                }),
            );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

/// The delivery to the GP among `rows`.
fn to_gp(rows: &[delivery::Model]) -> &delivery::Model {
    rows.iter()
        .find(|r| r.recipient == "referrer")
        .expect("a delivery to the GP")
}

/// Notification sending the GP's webhooks to `gp_url`, the board allowing
/// private addresses or not.
async fn spawn(
    backend: &pathway_tests::Backend,
    intake: &IntakeApp,
    gateway: &NotifyGateway,
    receiver: &WebhookReceiver,
    gp_url: Option<String>,
    allow_private_addresses: bool,
) -> TestApp {
    TestApp::spawn_with(
        backend,
        intake,
        gateway,
        receiver,
        Workers::default(),
        |settings| {
            if let Some(url) = gp_url {
                settings.board_defaults.gp_webhook_url = Some(url);
            }
            settings.board_defaults.allow_private_addresses = allow_private_addresses;
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answered_with_a_redirect_fails_and_the_redirect_target_gets_nothing() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let gp = misbehaving(receiver.url("gp")).await;
        let mut app = spawn(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Some(format!("{gp}/redirect")),
            true,
        )
        .await;

        let referral = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = app.wait_until_settled(&referral, 2).await;
        let hook = to_gp(&rows);
        assert_eq!(hook.status, Status::Failed, "{}: {hook:?}", backend.name());
        assert_eq!(hook.attempts, 1, "a redirect is not tried again: {hook:?}");
        let reason = hook.last_error.clone().unwrap_or_default();
        assert!(reason.contains("307"), "{reason}");
        assert!(reason.contains("redirects are not followed"), "{reason}");
        assert!(
            receiver.hooks().is_empty(),
            "the redirect's target got nothing"
        );
        assert_eq!(receiver.bad_signatures(), 0, "nor anything unsigned");

        app.stop().await;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_error_page_is_read_only_up_to_the_cap() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let gp = misbehaving(receiver.url("gp")).await;
        let mut app = spawn(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Some(format!("{gp}/endless")),
            true,
        )
        .await;

        let referral = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = app.wait_until_settled(&referral, 2).await;
        let hook = to_gp(&rows);
        assert_eq!(hook.status, Status::Failed, "{}: {hook:?}", backend.name());
        let reason = hook.last_error.clone().unwrap_or_default();
        // The start of the page was read (an unbounded read would have
        // timed out with nothing), and the reason stays short.
        assert!(reason.contains("400 Bad Request"), "{reason}");
        assert!(reason.contains("refused: xxxx"), "{reason}");
        assert!(reason.len() < 1000, "{} bytes", reason.len());

        app.stop().await;
        intake.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_unless_the_board_allows_private_addresses() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // The deployment's own channels for the board do not allow them.
        let mut app = spawn(&backend, &intake, &gateway, &receiver, None, false).await;

        let before = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &before, accept()))
            .await;
        let rows = app.wait_until_settled(&before, 2).await;
        let hook = to_gp(&rows);
        assert_eq!(hook.status, Status::Failed, "{}: {hook:?}", backend.name());
        assert_eq!(hook.attempts, 1, "a refusal is not tried again: {hook:?}");
        let reason = hook.last_error.clone().unwrap_or_default();
        assert!(
            reason.contains("127.0.0.1 is a loopback address"),
            "{reason}"
        );
        assert!(reason.contains("allow_private_addresses"), "{reason}");
        assert!(receiver.hooks().is_empty(), "nothing reached the receiver");
        assert_eq!(
            patient(&rows).status,
            Status::Sent,
            "the SMS went out through the deployment's own gateway"
        );

        // The board's own settings allow them explicitly.
        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "gp_webhook_url": receiver.url("gp"),
            "allow_private_addresses": true,
            "allowed_hosts": ["127.0.0.1"],
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
        pathway_tests::eventually(Duration::from_secs(15), || async {
            app.board_notification("highland")
                .await
                .filter(|row| row.notification_json.is_some())
        })
        .await
        .expect("notification keeps the board's new settings");

        let after = intake.refer(&valid_referral("highland")).await;
        app.send(&decision_recorded("highland", &after, accept()))
            .await;
        let rows = app.wait_until_settled(&after, 2).await;
        let hook = to_gp(&rows);
        assert_eq!(hook.status, Status::Sent, "{hook:?}");
        let hooks = receiver.hooks();
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].delivery, hook.id);

        app.stop().await;
        intake.stop().await;
    }
}
