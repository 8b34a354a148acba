//! A question unanswered past the board's working days: vetting's
//! `vetting.info_request_overdue` reminds the referrer, once, through the
//! board's GP channel (the webhook stand-in here), quoting the question read
//! from vetting; the patient is not messaged.

use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::backends;
use pathway_tests::notification::info_requested;
use pathway_tests::referrals::valid_referral;

use super::setup;

/// The `vetting.info_request_overdue` of the question `requested` put.
fn overdue(requested: &Event) -> Event {
    let Some(Payload::VettingInfoRequested(asked)) = &requested.payload else {
        panic!("not a question");
    };
    Event::new(
        &requested.board,
        uuid::Uuid::parse_str(&requested.referral_id).ok(),
        "system",
        chrono::Utc::now(),
        Payload::VettingInfoRequestOverdue(proto::VettingInfoRequestOverdue {
            information_request_id: asked.information_request_id.clone(),
            question_text_id: asked.question_text_id.clone(),
            requested_at: requested.occurred_at,
            working_days: 5,
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_question_reminds_the_referrer_once_quoting_it() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        let question = "Has she had imaging of the lumbar spine?";
        let asked = info_requested("highland", &referral, question);
        s.app.send(&asked).await;
        s.app.wait_until_settled(&referral, 1).await;

        let reminder = overdue(&asked);
        s.app.send(&reminder).await;
        // The same event again under another message id, past the broker's
        // de-duplication: the inbox keeps it from being sent twice.
        s.app
            .publish(&reminder, &uuid::Uuid::now_v7().to_string())
            .await;
        // A later event, settled: the one before it was handled by then.
        let later = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&info_requested("highland", &later, "Current medication?"))
            .await;
        s.app.wait_until_settled(&later, 1).await;

        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert_eq!(rows.len(), 2, "{}: {rows:?}", backend.name());
        let row = &rows[1];
        assert_eq!(row.recipient, "referrer");
        assert_eq!(row.status, Status::Sent);
        assert_eq!(row.cause, "information_request_reminder");
        assert_eq!(row.cause_event_id, reminder.event_id);
        assert_eq!(row.template, "referrer/info_request_reminder");
        let hooks = s.receiver.hooks();
        let hooks: Vec<_> = hooks
            .iter()
            .filter(|h| h.document["referral_id"] == referral.as_str())
            .collect();
        assert_eq!(hooks.len(), 2, "the question, then the reminder, once");
        let hook = &hooks[1].document;
        assert_eq!(hook["type"], "pathway.information_request_reminder");
        assert_eq!(hook["question"], question);
        let Some(Payload::VettingInfoRequested(first)) = &asked.payload else {
            panic!("not a question");
        };
        assert_eq!(
            hook["information_request_id"],
            first.information_request_id.as_str()
        );
        let subject = hook["message"]["subject"].as_str().unwrap_or_default();
        assert!(subject.starts_with("Reminder"), "{subject}");
        let body = hook["message"]["body"].as_str().unwrap_or_default();
        assert!(body.contains(question), "{body}");
        assert!(body.contains(&referral), "{body}");
        assert!(s.gateway.taken().is_empty(), "the patient is not messaged");

        s.stop().await;
    }
}
