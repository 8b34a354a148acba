//! Clinicians' free text off the stream (`docs/decisions/0024`): a
//! clinician's question, advice and rationale reach the referrer's message
//! (the local sink or the referrer's webhook), the referrer's view in intake
//! and the decision look-up, each read from vetting by id and audited there,
//! while the stream's raw events hold none of the words. A caller without a
//! service token, or with one that does not verify, is refused.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::settings::MessageGateway;
use pathway_notification::startup::Workers;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::intake::TestApp;
use pathway_tests::notification::{NotifyGateway, WebhookReceiver};
use pathway_tests::referrals::valid_referral;
use pathway_tests::vetting::VettingApp;
use pathway_tests::{backends, eventually};
use prost::Message;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const QUESTION: &str = "Has Mrs Zebedee-Quark had imaging since the fall in March?";
const ADVICE: &str = "Advise Mrs Zebedee-Quark on graded walking, twice daily.";
const RATIONALE: &str = "Zebedee-Quark pattern: mechanical pain without red flags.";

/// Every file the sink wrote, and every webhook the referrer got, as text.
fn messages(sink: &std::path::Path, receiver: &WebhookReceiver) -> String {
    let mut out = String::new();
    let mut dirs = vec![sink.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    for hook in receiver.hooks() {
        out.push_str(&hook.document.to_string());
    }
    out
}

async fn ask_for_texts(
    nats: &async_nats::Client,
    token: Option<&str>,
    ids: Vec<String>,
) -> proto::ClinicalTextReply {
    let mut headers = async_nats::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("Authorization", format!("Bearer {token}").as_str());
    }
    let request = proto::ClinicalTextRequest {
        text_ids: ids,
        purpose: "an end-to-end test".into(),
    };
    let reply = nats
        .request_with_headers(
            pathway_proto::rpc::CLINICAL_TEXT,
            headers,
            request.encode_to_vec().into(),
        )
        .await
        .expect("vetting replies");
    proto::ClinicalTextReply::decode(reply.payload).expect("a ClinicalTextReply")
}

fn refusal(reply: &proto::ClinicalTextReply) -> Option<proto::RefusalCode> {
    match &reply.result {
        Some(proto::clinical_text_reply::Result::Refusal(r)) => {
            Some(proto::RefusalCode::try_from(r.code).unwrap_or(proto::RefusalCode::Unspecified))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinicians_words_reach_people_by_request_and_never_the_stream() {
    let backend = backends().await.remove(0);
    let intake = TestApp::spawn(&backend).await;
    intake.enable_board("highland").await;
    let vetting = VettingApp::spawn(&intake, &backend).await;
    let decision = pathway_tests::decision::TestApp::spawn_beside(&backend, &intake).await;
    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("a temporary folder"));
    let mut settings = pathway_tests::notification::settings_beside(
        &backend,
        &intake,
        &gateway,
        &receiver,
        dir.path(),
    )
    .await;
    settings.board_defaults.messages = MessageGateway::Sink;
    let sink = settings.sink.dir.clone();
    // Alone: this test's vetting keeps the texts, as in production.
    let notification =
        pathway_tests::notification::TestApp::start(settings, Workers::default(), dir).await;

    let id = intake.refer(&valid_referral("highland")).await;
    let dr = intake.token_for("dr-a", Role::Clinician, &["highland"]);
    vetting
        .wait_for_status("highland", &id, "awaiting_vetting")
        .await;
    let claim = format!("/v1/referrals/{id}/claim");
    assert_eq!(vetting.post_empty(&claim, &dr).await.status(), 200);
    let asked = vetting
        .post(
            &format!("/v1/referrals/{id}/information-requests"),
            &dr,
            &json!({ "question": QUESTION }),
        )
        .await;
    assert_eq!(asked.status(), 201);

    // The referrer reads the question in intake's view of the referral.
    let referrer = intake.token(Role::Referrer, &["highland"]);
    let view = eventually(Duration::from_secs(15), || async {
        let view: Value = intake
            .get_referral(&referrer, &id)
            .await
            .json()
            .await
            .ok()?;
        (view["information_requests"][0]["question"] == QUESTION).then_some(view)
    })
    .await;
    assert!(
        view.is_some(),
        "the referrer's view never showed the question"
    );
    let answered = intake
        .referral_action(
            &referrer,
            &id,
            "information",
            &json!({"answer": "An X-ray in April, nothing broken."}),
        )
        .await;
    assert_eq!(answered.status(), 200);
    vetting
        .wait_for_status("highland", &id, "awaiting_vetting")
        .await;
    assert_eq!(vetting.post_empty(&claim, &dr).await.status(), 200);
    let recorded = vetting
        .post(
            &format!("/v1/referrals/{id}/outcome"),
            &dr,
            &json!({"outcome": "advice_to_referrer", "advice": ADVICE, "rationale": RATIONALE}),
        )
        .await;
    assert_eq!(recorded.status(), 201, "{:?}", recorded.text().await);

    // The question and the advice reach the referrer's messages.
    let told = eventually(Duration::from_secs(20), || async {
        let all = messages(&sink, &receiver);
        (all.contains(QUESTION) && all.contains(ADVICE)).then_some(())
    })
    .await;
    assert!(
        told.is_some(),
        "the messages: {}",
        messages(&sink, &receiver)
    );

    // The decision look-up shows the rationale and the advice.
    let shown = eventually(Duration::from_secs(15), || async {
        let view: Value = decision
            .get_decision(Some(&dr), &id)
            .await
            .json()
            .await
            .ok()?;
        (view["current"]["rationale"] == RATIONALE).then_some(view)
    })
    .await
    .expect("the decision shows the rationale");
    assert_eq!(shown["current"]["outcome"]["advice"], ADVICE);

    // None of the words is on the stream, in any event's raw bytes.
    let events = intake.stream_events().await;
    assert!(events.iter().any(|e| matches!(
        &e.event.payload,
        Some(Payload::DecisionRecorded(d)) if !d.rationale_text_id.is_empty()
    )));
    for event in &events {
        let raw = String::from_utf8_lossy(&event.raw);
        assert!(
            !raw.contains("Zebedee-Quark"),
            "{} carries a clinician's words",
            event.subject
        );
    }

    // Each service's read is audited in vetting, naming it and its purpose.
    let reads = pathway_common::audit::entity::Entity::find()
        .filter(pathway_common::audit::entity::Column::Action.eq("clinical_text.read"))
        .filter(pathway_common::audit::entity::Column::ReferralId.eq(id.as_str()))
        .all(&vetting.db)
        .await
        .expect("read vetting's audit");
    for service in ["intake", "notification", "decision"] {
        assert!(
            reads
                .iter()
                .any(|r| r.actor == service && r.actor_role == "service" && r.purpose.is_some()),
            "no audited read by {service}: {reads:?}"
        );
    }

    // A caller that is not a service, or has no valid token, is refused,
    // and reads nothing.
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event.payload {
            Some(Payload::DecisionRecorded(d)) => Some(d.rationale_text_id.clone()),
            _ => None,
        })
        .collect();
    let before = reads.len();
    let as_clinician = ask_for_texts(&intake.nats, Some(&dr), ids.clone()).await;
    assert_eq!(refusal(&as_clinician), Some(proto::RefusalCode::Forbidden));
    let forged = ask_for_texts(&intake.nats, Some("not.a.token"), ids.clone()).await;
    assert_eq!(refusal(&forged), Some(proto::RefusalCode::Unauthenticated));
    let anonymous = ask_for_texts(&intake.nats, None, ids.clone()).await;
    assert_eq!(
        refusal(&anonymous),
        Some(proto::RefusalCode::Unauthenticated)
    );
    let other_board = intake.token_for("svc-x", Role::Service, &["fife"]);
    let elsewhere = ask_for_texts(&intake.nats, Some(&other_board), ids.clone()).await;
    assert_eq!(refusal(&elsewhere), Some(proto::RefusalCode::Forbidden));
    // A service of the board reads it, and leaves a row.
    let service = intake.token_for("svc-check", Role::Service, &["highland"]);
    let read = ask_for_texts(&intake.nats, Some(&service), ids).await;
    let Some(proto::clinical_text_reply::Result::Texts(texts)) = read.result else {
        panic!("no texts: {read:?}");
    };
    assert_eq!(texts.texts.len(), 1);
    assert_eq!(texts.texts[0].text, RATIONALE);
    assert_eq!(
        texts.texts[0].kind,
        proto::ClinicalTextKind::Rationale as i32
    );
    let after = pathway_common::audit::entity::Entity::find()
        .filter(pathway_common::audit::entity::Column::Action.eq("clinical_text.read"))
        .filter(pathway_common::audit::entity::Column::ReferralId.eq(id.as_str()))
        .all(&vetting.db)
        .await
        .expect("read vetting's audit");
    assert!(
        after.len() > before && after.iter().any(|r| r.actor == "svc-check"),
        "the refused asks leave no row; the service's read leaves one"
    );
    drop(notification);
}
