//! Board settings followed without a restart: channels and templates
//! changed, and an older durable consumer widened at start.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::settings::ReferrerChannel;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1 as proto;
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver, decision_recorded};
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::smtp::setup_smtp;
use super::{accept, patient};

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
            "allow_private_addresses": false,
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
