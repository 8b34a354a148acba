//! Health, readiness, metrics and the OpenAPI document, and the README
//! example referral.

use pathway_common::auth::Role;
use pathway_tests::Backend;
use pathway_tests::intake::TestApp;
use serde_json::Value;

#[tokio::test]
async fn health_readiness_metrics_and_the_openapi_document_are_served() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{path}");
    }
    app.http
        .get(format!("{}/v1/boards", app.base))
        .send()
        .await
        .expect("answer");
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("pathway_http_requests_total"), "{metrics}");
    let openapi: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for path in [
        "/v1/referrals",
        "/v1/referrals/{id}",
        "/v1/boards",
        "/v1/boards/{board}/pathway",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is documented");
    }
    let response = app
        .http
        .get(format!("{}/v1/nothing", app.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_readme_example_referral_is_accepted() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    app.enable_board("highland").await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/referral.json");
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("examples/referral.json"))
            .expect("JSON");
    let response = app
        .post_referral(&app.token(Role::Referrer, &["highland"]), &body)
        .await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
}
