//! Requests per token (`pathway_common::http::rate_limit`): past its
//! allowance a token is answered 429 `rate_limited` with `Retry-After`,
//! another token is not held up, the token is served again once it has
//! waited, and the operational routes are never limited.

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_intake::startup::Workers;
use pathway_tests::intake::TestApp;
use pathway_tests::{Backend, eventually};

async fn intake(per_second: u32, burst: u32) -> TestApp {
    TestApp::spawn_adjusted(&Backend::Sqlite, Workers::default(), |settings| {
        settings.http.rate_limit_per_second = per_second;
        settings.http.rate_limit_burst = burst;
    })
    .await
}

/// `GET path` with `token`: the status and the `Retry-After` header.
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Option<String>) {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("intake answers");
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), retry)
}

#[tokio::test]
async fn a_token_past_its_allowance_waits_and_others_do_not() {
    let app = intake(2, 5).await;
    let busy = app.token_for("busy-practice", Role::Referrer, &["highland"]);
    let other = app.token_for("other-practice", Role::Referrer, &["highland"]);

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(get(&app, "/v1/boards", Some(&busy)).await);
    }
    let served = statuses.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert!(
        (5..=7).contains(&served),
        "the burst, then about 2 a second: {statuses:?}"
    );
    assert_eq!(served + refused.len(), 12, "{statuses:?}");
    assert!(
        refused
            .iter()
            .all(|(_, retry)| retry.as_deref() == Some("1")),
        "{statuses:?}"
    );
    let body: serde_json::Value = app
        .http
        .get(format!("{}/v1/boards", app.base))
        .bearer_auth(&busy)
        .send()
        .await
        .expect("intake answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["error"], "rate_limited", "{body}");

    // Another token is not held up, nor are the operational routes.
    assert_eq!(get(&app, "/v1/boards", Some(&other)).await.0, 200);
    for path in ["/healthz", "/readyz", "/metrics"] {
        for _ in 0..10 {
            assert_eq!(get(&app, path, None).await.0, 200, "{path}");
        }
    }

    // Having waited, the busy token is served again.
    let again = eventually(Duration::from_secs(3), || async {
        (get(&app, "/v1/boards", Some(&busy)).await.0 == 200).then_some(())
    })
    .await;
    assert!(again.is_some(), "served again after waiting");
}

#[tokio::test]
async fn a_rate_of_zero_turns_the_limit_off() {
    let app = intake(0, 0).await;
    let token = app.token(Role::Referrer, &["highland"]);
    for _ in 0..50 {
        assert_eq!(get(&app, "/v1/boards", Some(&token)).await.0, 200);
    }
}
