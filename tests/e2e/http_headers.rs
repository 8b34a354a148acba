//! Headers every answer carries (`pathway_common::http::headers`): pages and
//! API answers are not stored by a browser or proxy, not framed, not
//! sniffed, and send no referrer to another site; `/metrics` keeps one series per real
//! HTTP method, whatever method a client makes up; and the audit names the
//! client behind a trusted reverse proxy, never what a client claims.

use pathway_common::http::headers::CONTENT_SECURITY_POLICY;
use pathway_tests::Backend;
use pathway_tests::intake::TestApp;

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    for (path, status) in [
        ("/", 200),
        ("/openapi.json", 200),
        ("/readyz", 200),
        ("/v1/referrals/not-a-uuid", 401),
        ("/no/such/endpoint", 404),
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status().as_u16(), status, "{path}");
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("cache-control"), "no-store", "{path}");
        assert_eq!(
            header("content-security-policy"),
            CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert!(
            CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    }
}

#[tokio::test]
async fn a_made_up_method_is_counted_as_other() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    for method in ["PURGE", "XYZZY1", "XYZZY2"] {
        let response = app
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
                format!("{}/v1/referrals", app.base),
            )
            .send()
            .await
            .expect("intake answers");
        assert!(response.status().is_client_error(), "{method}");
    }
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("intake answers")
        .text()
        .await
        .expect("metrics as text");
    let requests: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("pathway_http_requests_total{"))
        .collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("method=\"other\"") && l.ends_with(" 3")),
        "{requests:#?}"
    );
    assert!(
        !metrics.contains("PURGE") && !metrics.contains("XYZZY"),
        "{requests:#?}"
    );
}

/// The audit row `PUT /v1/boards/highland/pathway` leaves, as sent with
/// `X-Forwarded-For: forwarded` to intake trusting `trusted_proxies`: its source.
async fn audited_source(trusted_proxies: &str, forwarded: &str) -> String {
    use pathway_common::audit::entity as audit;
    use sea_orm::EntityTrait;

    let proxies = serde_json::from_value::<pathway_common::settings::HttpSettings>(
        serde_json::json!({ "trusted_proxies": trusted_proxies }),
    )
    .expect("the setting parses")
    .trusted_proxies;
    let app = TestApp::spawn_adjusted(
        &Backend::Sqlite,
        pathway_intake::startup::Workers::default(),
        |settings| settings.http.trusted_proxies = proxies,
    )
    .await;
    let switched = app
        .http
        .put(format!("{}/v1/boards/highland/pathway", app.base))
        .bearer_auth(app.token(pathway_common::auth::Role::BoardAdmin, &["highland"]))
        .header("x-forwarded-for", forwarded)
        .json(&serde_json::json!({"enabled": true, "reason": "test"}))
        .send()
        .await
        .expect("intake answers");
    assert_eq!(switched.status(), 200);
    let rows = audit::Entity::find()
        .all(&app.db)
        .await
        .expect("the audit trail");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].source.clone()
}

#[tokio::test]
async fn the_audit_names_the_client_behind_a_trusted_proxy_only() {
    // The test's requests come from 127.0.0.1: as if through a proxy there.
    let spoofed_and_real = "198.51.100.7, 203.0.113.9";
    assert_eq!(
        audited_source("127.0.0.1", spoofed_and_real).await,
        "203.0.113.9",
        "behind a trusted proxy: the address it forwarded for"
    );
    assert_eq!(
        audited_source("10.0.0.0/8", spoofed_and_real).await,
        "127.0.0.1",
        "the peer is not a trusted proxy: its header is not believed"
    );
    assert_eq!(
        audited_source("", spoofed_and_real).await,
        "127.0.0.1",
        "no trusted proxies: the header is ignored"
    );
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_stops_the_start_naming_it() {
    let error = serde_json::from_value::<pathway_common::settings::HttpSettings>(
        serde_json::json!({ "trusted_proxies": "10.0.0.0/8, 10.0.0/8" }),
    )
    .expect_err("not a network");
    assert!(error.to_string().contains("\"10.0.0/8\""), "{error}");
    let listed = serde_json::from_value::<pathway_common::settings::HttpSettings>(
        serde_json::json!({ "trusted_proxies": ["10.0.0.0/8", "192.168.1.1"] }),
    )
    .expect("a list");
    assert_eq!(listed.trusted_proxies.len(), 2);
}
