//! Who gets in: bad tokens refused, and identifiable data read only with a
//! service token, leaving an audit row.

use std::time::Duration;

use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;
use pathway_proto::v1 as proto;
use pathway_tests::Backend;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use prost::Message as _;
use serde_json::{Value, json};

use super::{audit_rows, referral_rows};

#[tokio::test]
async fn tokens_that_are_missing_expired_forged_or_for_another_board_are_refused() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let body = valid_referral("highland");
    let url = format!("{}/v1/referrals", app.base);

    let response = app
        .http
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );

    let response = app
        .http
        .post(&url)
        .header("authorization", "Basic abc")
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 401);

    let mut claims = Claims::new(
        "gp-1",
        Role::Referrer,
        vec!["highland".into()],
        Duration::from_secs(60),
    );
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let own = Authenticator::from_settings(&app.settings.auth).expect("local key");
    let expired = own.issue(&claims).expect("sign");
    let response = app.post_referral(&expired, &body).await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["error"], "token_expired");

    let dir = tempfile::tempdir().expect("dir");
    let forger = Authenticator::from_settings(&AuthSettings {
        local_key_file: dir.path().join("other.key"),
        ..AuthSettings::default()
    })
    .expect("another key");
    let forged = forger
        .issue(&Claims::new(
            "gp-1",
            Role::Referrer,
            vec!["highland".into()],
            Duration::from_secs(60),
        ))
        .expect("sign");
    assert_eq!(app.post_referral(&forged, &body).await.status(), 401);

    assert_eq!(
        app.post_referral(&app.token(Role::Referrer, &["fife"]), &body)
            .await
            .status(),
        403
    );
    let mut invalid = body.clone();
    invalid["clinical"]["pain_intensity"] = json!(11);
    let other_board = app.token(Role::Referrer, &["fife"]);
    assert_eq!(
        app.post_referral(&other_board, &invalid).await.status(),
        403,
        "the board is checked before the body"
    );
    assert_eq!(
        app.post_referral(&app.token(Role::Clinician, &["highland"]), &body)
            .await
            .status(),
        403
    );
    assert_eq!(referral_rows(&app).await, 0);

    // Reading: another referrer, another board's clinician, an evaluator.
    let id = app.refer(&body).await;
    let other_referrer = app.token_for("gp-2", Role::Referrer, &["highland"]);
    assert_eq!(app.get_referral(&other_referrer, &id).await.status(), 404);
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["fife"]), &id)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Evaluator, &["highland"]), &id)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["highland"]), &id)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_referral(&app.token(Role::Clinician, &["highland"]), "not-a-uuid")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn other_services_read_identifiable_data_only_with_a_service_token_and_leave_an_audit_row() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let id = app.refer(&valid_referral("highland")).await;
    let ask = |token: String, body: proto::ReferralLookupRequest| {
        let nats = app.nats.clone();
        async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Authorization", format!("Bearer {token}").as_str());
            let reply = nats
                .request_with_headers(
                    pathway_proto::rpc::REFERRAL_LOOKUP,
                    headers,
                    body.encode_to_vec().into(),
                )
                .await
                .expect("intake replies");
            proto::ReferralLookupReply::decode(reply.payload)
                .expect("a ReferralLookupReply")
                .result
                .expect("a referral or a refusal")
        }
    };
    let refused = |result: proto::referral_lookup_reply::Result| match result {
        proto::referral_lookup_reply::Result::Refusal(refusal) => refusal.code(),
        proto::referral_lookup_reply::Result::Referral(referral) => {
            panic!("a referral given: {}", referral.id)
        }
    };
    let request = proto::ReferralLookupRequest {
        referral_id: id.clone(),
        purpose: "vetting worklist".into(),
        lookup_purpose: proto::LookupPurpose::VettingView as i32,
    };
    let reply = ask(
        app.token_for("svc-vetting", Role::Service, &["highland"]),
        request.clone(),
    )
    .await;
    let proto::referral_lookup_reply::Result::Referral(referral) = reply else {
        panic!("intake gave no referral to a service of the board");
    };
    assert_eq!(referral.id, id.as_str());
    let chi = referral.patient.expect("the patient").chi;
    assert_eq!(chi.len(), 10, "a CHI number");
    assert_eq!(audit_rows(&app, "referral.read_identifiable", &id).await, 1);

    let reply = ask(app.token(Role::Clinician, &["highland"]), request.clone()).await;
    assert_eq!(refused(reply), proto::RefusalCode::Forbidden);
    let reply = ask(
        app.token_for("svc-vetting", Role::Service, &["fife"]),
        request.clone(),
    )
    .await;
    assert_eq!(refused(reply), proto::RefusalCode::Forbidden);
    let reply = ask("forged".into(), request.clone()).await;
    assert_eq!(refused(reply), proto::RefusalCode::Unauthenticated);
    // A purpose is required, and a request that is not one is refused
    // without an answer being given or a read audited.
    let blank = proto::ReferralLookupRequest {
        purpose: " ".into(),
        ..request.clone()
    };
    let service = app.token_for("svc-vetting", Role::Service, &["highland"]);
    let reply = ask(service.clone(), blank).await;
    assert_eq!(refused(reply), proto::RefusalCode::Invalid);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {service}").as_str());
    let reply = app
        .nats
        .request_with_headers(
            pathway_proto::rpc::REFERRAL_LOOKUP,
            headers,
            json!({"referral_id": id, "purpose": "vetting worklist"})
                .to_string()
                .into(),
        )
        .await
        .expect("intake replies to a malformed request");
    let reply = proto::ReferralLookupReply::decode(reply.payload)
        .expect("a ReferralLookupReply")
        .result
        .expect("a refusal");
    assert_eq!(refused(reply), proto::RefusalCode::Invalid);
    let unknown = proto::ReferralLookupRequest {
        referral_id: uuid::Uuid::now_v7().to_string(),
        ..request
    };
    let reply = ask(service, unknown).await;
    assert_eq!(refused(reply), proto::RefusalCode::NotFound);
    assert_eq!(audit_rows(&app, "referral.read_identifiable", &id).await, 1);
}
