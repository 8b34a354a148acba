//! Headers every answer carries (`pathway_common::http::headers`): pages and
//! API answers are not stored by a browser or proxy, not framed, not
//! sniffed, and send no referrer; and `/metrics` keeps one series per real
//! HTTP method, whatever method a client makes up.

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
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
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
