//! Events from other services, published onto the stream by hand: applied
//! once, moving the status, poison dead-lettered, the clinician's question
//! passed on.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends, eventually};
use prost::Message as _;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use super::audit_rows;

async fn publish(app: &TestApp, event: &Event, message_id: &str) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", message_id);
    app.jetstream
        .publish_with_headers(
            event.subject().expect("subject"),
            headers,
            event.encode_to_vec().into(),
        )
        .await
        .expect("publish")
        .await
        .expect("the stream acknowledges");
}

fn event(board: &str, referral_id: &str, payload: Payload) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("uuid")),
        "dr-vetting",
        chrono::Utc::now(),
        payload,
    )
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    let token = app.token(Role::Clinician, &["highland"]);
    app.get_referral(&token, id)
        .await
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let id = app.refer(&valid_referral("highland")).await;
        let claimed = event(
            "highland",
            &id,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        );
        // Two copies that slip past the broker's de-duplication.
        publish(&app, &claimed, "copy-1").await;
        publish(&app, &claimed, "copy-2").await;
        let view = eventually(Duration::from_secs(10), || async {
            let view = status_of(&app, &id).await;
            (view["status"] == "in_vetting").then_some(view)
        })
        .await
        .expect("the claim reaches intake");
        // Give the second copy time to arrive, then count.
        let duplicates = eventually(Duration::from_secs(10), || async {
            let rows = pathway_common::inbox::entity::Entity::find()
                .count(&app.db)
                .await
                .ok()?;
            (rows >= 1).then_some(rows)
        })
        .await;
        assert_eq!(duplicates, Some(1));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let view2 = status_of(&app, &id).await;
        let claims = view2["history"]
            .as_array()
            .map(|h| h.iter().filter(|e| e["event"] == "vetting.claimed").count());
        assert_eq!(claims, Some(1), "{}", backend.name());
        assert_eq!(view2["version"], view["version"]);
    }
}

#[tokio::test]
async fn the_information_loop_and_withdrawal_follow_the_status() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let id = app.refer(&valid_referral("highland")).await;
        let info = |body: Value, etag: Option<String>| {
            let mut request = app
                .http
                .post(format!("{}/v1/referrals/{id}/information", app.base))
                .bearer_auth(&token)
                .json(&body);
            if let Some(etag) = etag {
                request = request.header("If-Match", etag);
            }
            async move { request.send().await.expect("answer") }
        };

        // Nothing asked yet.
        assert_eq!(
            info(json!({"answer": "MRI normal"}), None).await.status(),
            409
        );

        let request_id = uuid::Uuid::now_v7().to_string();
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingClaimed(proto::VettingClaimed {
                    clinician: "dr-vetting".into(),
                    lease_expires_at: None,
                }),
            ),
            "c1",
        )
        .await;
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingInfoRequested(proto::VettingInfoRequested {
                    information_request_id: request_id.clone(),
                    clinician: "dr-vetting".into(),
                    question_text_id: request_id.clone(),
                }),
            ),
            "i1",
        )
        .await;
        let view = eventually(Duration::from_secs(10), || async {
            let view = status_of(&app, &id).await;
            (view["status"] == "info_requested").then_some(view)
        })
        .await
        .expect("the request reaches intake");
        assert_eq!(view["information_requests"][0]["id"], request_id.as_str());
        let referrer_view: Value = app
            .get_referral(&token, &id)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            referrer_view["allowed_actions"],
            json!(["withdraw", "provide_information"])
        );

        // A stale ETag is refused; the right one is taken.
        let stale = info(json!({"answer": "MRI normal"}), Some("\"1\"".into())).await;
        assert_eq!(stale.status(), 412);
        assert_eq!(info(json!({"answer": "  "}), None).await.status(), 422);
        let current = format!("\"{}\"", referrer_view["version"]);
        let answered = info(
            json!({"answer": "MRI lumbar spine 2025: degenerative change only"}),
            Some(current),
        )
        .await;
        assert_eq!(answered.status(), 200);
        let answered: Value = answered.json().await.expect("JSON");
        assert_eq!(answered["status"], "awaiting_vetting");
        let events = app.wait_for_events(5).await;
        let provided: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event.payload {
                Some(Payload::ReferralInfoProvided(p)) => Some(p.information_request_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(provided, vec![request_id.clone()]);
        // The answer reads back in the clear, and is kept encrypted.
        let read: Value = app
            .get_referral(&token, &id)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            read["information_requests"][0]["answer"],
            "MRI lumbar spine 2025: degenerative change only"
        );
        let stored =
            pathway_intake::store::information_request::Entity::find_by_id(request_id.clone())
                .one(&app.db)
                .await
                .expect("read")
                .and_then(|row| row.answer)
                .expect("an answer is kept");
        assert!(
            pathway_common::crypto::FieldCipher::is_sealed(&stored) && !stored.contains("MRI"),
            "{}: {stored}",
            backend.name()
        );

        // Withdraw, then withdrawing again is a conflict.
        let withdraw = |reason: &str| {
            let request = app
                .http
                .post(format!("{}/v1/referrals/{id}/withdraw", app.base))
                .bearer_auth(&token)
                .json(&json!({"reason_code": reason}));
            async move { request.send().await.expect("answer") }
        };
        assert_eq!(withdraw("bored").await.status(), 422);
        assert_eq!(withdraw("patient_request").await.status(), 200);
        assert_eq!(withdraw("patient_request").await.status(), 409);
        let view = status_of(&app, &id).await;
        assert_eq!(view["status"], "withdrawn");
        assert_eq!(audit_rows(&app, "referral.withdraw", &id).await, 1);
        assert_eq!(
            audit_rows(&app, "referral.information_provided", &id).await,
            1
        );
    }
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_with_the_reason_and_do_not_block_the_rest() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let id = app.refer(&valid_referral("highland")).await;

    // Not an event at all, and an event for a referral intake never had.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "garbage-1");
    app.jetstream
        .publish_with_headers(
            "pathway.v1.highland.vetting.claimed",
            headers,
            vec![0xff, 0xff, 0xff].into(),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
    let stranger = uuid::Uuid::now_v7().to_string();
    let claim = |referral: &str| {
        event(
            "highland",
            referral,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        )
    };
    publish(&app, &claim(&stranger), "stranger-1").await;
    // A good event after them is still handled.
    publish(&app, &claim(&id), "good-1").await;
    eventually(Duration::from_secs(10), || async {
        (status_of(&app, &id).await["status"] == "in_vetting").then_some(())
    })
    .await
    .expect("the good event is handled");

    let dead = eventually(Duration::from_secs(10), || async {
        let rows = pathway_common::inbox::dead_letter::Entity::find()
            .all(&app.db)
            .await
            .ok()?;
        (rows.len() >= 2).then_some(rows)
    })
    .await
    .expect("two dead letters");
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter().any(|d| d.reason.contains("cannot decode")),
        "{dead:?}"
    );
    assert!(
        dead.iter().any(|d| d.reason.contains(&stranger)),
        "{dead:?}"
    );

    // The dead-letter stream holds exactly as many messages as there are rows.
    let on_stream = eventually(Duration::from_secs(10), || async {
        let mut stream = app
            .jetstream
            .get_stream(pathway_proto::stream::DEAD_LETTER_STREAM)
            .await
            .ok()?;
        let count = stream.info().await.ok()?.state.messages;
        (count >= 2).then_some(count)
    })
    .await;
    assert_eq!(on_stream, Some(2));
    let stream = app
        .jetstream
        .get_stream(pathway_proto::stream::DEAD_LETTER_STREAM)
        .await
        .expect("stream");
    let first = stream.get_raw_message(1).await.expect("a dead letter");
    assert_eq!(
        first.subject.as_str(),
        "pathway.deadletter.v1.intake-status"
    );
    assert!(first.headers.get("Pathway-Dead-Letter-Reason").is_some());
}

#[tokio::test]
async fn the_clinicians_question_reaches_the_referrer() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let referrer = app.token(Role::Referrer, &["highland"]);
        let id = app.refer(&valid_referral("highland")).await;
        let request_id = uuid::Uuid::now_v7().to_string();
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingClaimed(proto::VettingClaimed {
                    clinician: "dr-vetting".into(),
                    lease_expires_at: None,
                }),
            ),
            "q-claim",
        )
        .await;
        let question =
            "Has the patient had imaging of the lumbar spine? If so, when and what did it show?";
        // The question's text is vetting's, kept when the clinician asks;
        // intake reads it by the request's id for the referrer's view.
        let vetting = pathway_tests::vetting::VettingApp::spawn_texts_only(&app, &backend).await;
        vetting
            .keep_text(
                &request_id,
                &id,
                "highland",
                pathway_vetting::store::clinical_text::Kind::Question,
                question,
            )
            .await;
        publish(
            &app,
            &event(
                "highland",
                &id,
                Payload::VettingInfoRequested(proto::VettingInfoRequested {
                    information_request_id: request_id.clone(),
                    clinician: "dr-vetting".into(),
                    question_text_id: request_id.clone(),
                }),
            ),
            "q-ask",
        )
        .await;
        let view = eventually(Duration::from_secs(10), || async {
            let view: Value = app.get_referral(&referrer, &id).await.json().await.ok()?;
            (view["status"] == "info_requested").then_some(view)
        })
        .await
        .expect("the request reaches intake");
        let asked = &view["information_requests"][0];
        assert_eq!(asked["id"], request_id.as_str(), "{}", backend.name());
        assert_eq!(asked["question"], question);
        assert_eq!(asked["requested_by"], "dr-vetting");
        assert_eq!(asked["answer"], Value::Null);

        // A vetting clinician's view through the look-up shows the question too.
        let mut headers = async_nats::HeaderMap::new();
        let service = app.token_for("svc-vetting", Role::Service, &["highland"]);
        headers.insert("Authorization", format!("Bearer {service}").as_str());
        let request = proto::ReferralLookupRequest {
            referral_id: id.clone(),
            purpose: "clinical vetting".into(),
            lookup_purpose: proto::LookupPurpose::VettingView as i32,
        };
        let reply = app
            .nats
            .request_with_headers(
                pathway_proto::rpc::REFERRAL_LOOKUP,
                headers,
                request.encode_to_vec().into(),
            )
            .await
            .expect("intake replies");
        let reply =
            proto::ReferralLookupReply::decode(reply.payload).expect("a ReferralLookupReply");
        let Some(proto::referral_lookup_reply::Result::Referral(referral)) = reply.result else {
            panic!("no referral: {reply:?}");
        };
        assert_eq!(
            referral.information_requests[0].question, None,
            "the question is vetting's: intake keeps none to give"
        );
        // Asking only for contact details, the question is not given.
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {service}").as_str());
        let request = proto::ReferralLookupRequest {
            lookup_purpose: proto::LookupPurpose::ContactDetails as i32,
            ..request
        };
        let reply = app
            .nats
            .request_with_headers(
                pathway_proto::rpc::REFERRAL_LOOKUP,
                headers,
                request.encode_to_vec().into(),
            )
            .await
            .expect("intake replies");
        let reply =
            proto::ReferralLookupReply::decode(reply.payload).expect("a ReferralLookupReply");
        let Some(proto::referral_lookup_reply::Result::Referral(referral)) = reply.result else {
            panic!("no referral: {reply:?}");
        };
        assert!(referral.information_requests.is_empty());
        assert!(referral.patient.is_some(), "contact details are given");
    }
}

/// Events from other services arrive in any order (two instances handle
/// them at once, a redelivery comes late): the status is where they lead in
/// the order they happened, not the order they came.
#[tokio::test]
async fn events_arriving_out_of_order_lead_where_they_happened() {
    use pathway_tests::decision::{accept, vetting_completed};
    use pathway_tests::notification::decision_recorded;

    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let id = app.refer(&valid_referral("highland")).await;
        let at = |seconds: i64| chrono::Utc::now() + chrono::TimeDelta::seconds(seconds);
        let timed = |mut event: Event, seconds: i64| {
            event.occurred_at = Some(proto::timestamp(at(seconds)));
            event
        };
        let claimed = timed(
            event(
                "highland",
                &id,
                Payload::VettingClaimed(proto::VettingClaimed {
                    clinician: "dr-vetting".into(),
                    lease_expires_at: None,
                }),
            ),
            1,
        );
        let vetted = timed(
            vetting_completed("highland", &id, accept(proto::Priority::Routine), false),
            2,
        );
        let decided = timed(
            decision_recorded("highland", &id, accept(proto::Priority::Routine)),
            3,
        );
        let notified = timed(
            event(
                "highland",
                &id,
                Payload::NotificationSent(proto::NotificationSent {
                    delivery_id: uuid::Uuid::now_v7().to_string(),
                    recipient: proto::Recipient::Referrer as i32,
                    channel: proto::Channel::Webhook as i32,
                    cause_event_id: decided.event_id.clone(),
                }),
            ),
            4,
        );
        // Last first: each arrives before the one it follows.
        for (event, message_id) in [
            (&notified, "notified"),
            (&decided, "decided"),
            (&vetted, "vetted"),
            (&claimed, "claimed"),
        ] {
            publish(&app, event, message_id).await;
        }
        let view = eventually(Duration::from_secs(15), || async {
            let view = status_of(&app, &id).await;
            let history = view["history"].as_array().map_or(0, Vec::len);
            (history >= 5).then_some(view)
        })
        .await
        .expect("all four events reach intake");
        assert_eq!(view["status"], "notified", "{}: {view}", backend.name());
        // Notified is an end: the patient may be referred again (refer
        // asserts the 201).
        app.refer(&valid_referral("highland")).await;
    }
}
