//! Bad parameters are named in the error, and only evaluators and board
//! admins of a board see its metrics.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;

use super::BOARD;

#[tokio::test]
async fn bad_parameters_are_named_and_only_evaluators_and_board_admins_see_metrics() {
    let backend = &backends().await[0];
    let mut app = TestApp::spawn(backend).await;
    let evaluator = app.token(Role::Evaluator, &[BOARD]);
    for (query, field) in [
        ("boards=highland&to=2026-02-01", "from"),
        ("boards=highland&from=2026-13-01", "from"),
        ("boards=atlantis&from=2026-01-01", "boards"),
        ("boards=highland&from=2026-01-01&by=fortnight", "by"),
        ("boards=highland&from=2026-03-01&to=2026-02-01", "to"),
        ("boards=highland&from=2026-01-01&split=postcode", "split"),
        ("boards=highland&from=2026-01-01&colour=blue", "colour"),
    ] {
        let response = app.metrics(&evaluator, query).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    let clinician = app.token(Role::Clinician, &[BOARD]);
    let response = app
        .metrics(&clinician, "boards=highland&from=2026-01-01")
        .await;
    assert_eq!(response.status(), 403);
    let elsewhere = app.token(Role::Evaluator, &["lothian"]);
    let response = app
        .metrics(&elsewhere, "boards=highland&from=2026-01-01")
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .http
        .get(format!("{}/v1/metrics?from=2026-01-01", app.base))
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(response.status(), 401);
    let openapi: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("analytics answers")
        .json()
        .await
        .expect("OpenAPI is JSON");
    assert!(openapi["paths"]["/v1/metrics"].is_object());
    assert!(openapi["paths"]["/v1/metrics.csv"].is_object());
    app.stop().await;
}
