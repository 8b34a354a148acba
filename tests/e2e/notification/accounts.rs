//! Each board's own Notify account: messages sent, switched and looked up
//! through the account that sent them.

use std::time::Duration;

use chrono::Utc;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    CALLBACK_TOKEN, NotifyGateway, TestApp, WebhookReceiver, decision_recorded,
};
use pathway_tests::referrals::valid_referral;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde_json::json;

use super::{accept, patient};

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
