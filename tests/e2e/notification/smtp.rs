//! E-mail over a real SMTP server: one message each, 451 retried, 550 not.

use pathway_notification::settings::{EmailGateway, ReferrerChannel};
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    NotifyGateway, SmtpSink, TestApp, WebhookReceiver, decision_recorded,
};
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

use super::{Setup, patient};

/// Intake, the Notify stand-in, the webhook receiver, and a notification
/// service whose boards send their e-mail to a real SMTP server.
pub(crate) async fn setup_smtp(
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
