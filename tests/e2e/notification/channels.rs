//! The patient hears the way they asked to, the GP by a signed webhook;
//! with no gateway configured each message is a file to open.

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver, decision_recorded};
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

use super::{accept, patient, setup};

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
