//! Retries and duplicates: one referral for one idempotency key, for one
//! open referral per patient, and under concurrent submissions.

use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use serde_json::{Value, json};

use super::referral_rows;

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let send = |body: Value| {
            let request = app
                .http
                .post(format!("{}/v1/referrals", app.base))
                .bearer_auth(&token)
                .header("Idempotency-Key", "gp-system-42")
                .json(&body);
            async move { request.send().await.expect("answer") }
        };
        let first = send(body.clone()).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.expect("JSON");
        let again = send(body.clone()).await;
        assert_eq!(again.status(), 201);
        let again: Value = again.json().await.expect("JSON");
        assert_eq!(first["id"], again["id"]);
        assert_eq!(referral_rows(&app).await, 1);

        let other = send(valid_referral("highland")).await;
        assert_eq!(other.status(), 422);
        let error: Value = other.json().await.expect("JSON");
        assert_eq!(error["error"], "idempotency_key_reused");
        assert_eq!(referral_rows(&app).await, 1);
    }
}

#[tokio::test]
async fn a_second_open_referral_for_the_patient_is_a_duplicate_unless_deliberate() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let token = app.token(Role::Referrer, &["highland"]);
        let body = valid_referral("highland");
        let first = app.refer(&body).await;

        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status(), 409);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], "duplicate_referral");
        assert_eq!(error["open_referral_id"], first.as_str());
        assert_eq!(error["rejection_reason"]["code"], "01");

        let mut deliberate = body.clone();
        deliberate["re_referral"] = json!(true);
        assert_eq!(app.post_referral(&token, &deliberate).await.status(), 201);

        // Once the first is withdrawn, a new referral is no duplicate.
        let response = app
            .http
            .post(format!("{}/v1/referrals/{first}/withdraw", app.base))
            .bearer_auth(&token)
            .json(&json!({"reason_code": "sent_in_error"}))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(app.post_referral(&token, &body).await.status(), 201);
    }
}

#[tokio::test]
async fn concurrent_duplicates_make_exactly_one_referral() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let token = app.token(Role::Referrer, &["highland"]);
    let body = valid_referral("highland");
    let attempts =
        futures::future::join_all((0..8).map(|_| app.post_referral(&token, &body))).await;
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}
