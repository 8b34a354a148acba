//! A service's own token from the identity provider's token endpoint (the
//! OAuth 2.0 client credentials grant), served here by a real local HTTP
//! server: asked for once, kept while it is fresh, renewed by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use pathway_common::service_token::ClientCredentials;

/// A token endpoint giving tokens valid for `lifetime` seconds (`t1`, `t2`,
/// ...), or refusing every request; how many grants it was asked for.
async fn token_endpoint(lifetime: u64, refuse: bool) -> (String, Arc<AtomicUsize>) {
    let asked = Arc::new(AtomicUsize::new(0));
    let counted = asked.clone();
    let app = Router::new().route(
        "/token",
        post(move |body: String| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let grant: Vec<(String, String)> =
                    serde_urlencoded::from_str(&body).expect("a form body");
                let has =
                    |key: &str, value: &str| grant.iter().any(|(k, v)| k == key && v == value);
                if refuse
                    || !has("grant_type", "client_credentials")
                    || !has("client_id", "vetting")
                    || !has("client_secret", "s3cret & more")
                {
                    return (
                        StatusCode::UNAUTHORIZED,
                        r#"{"error":"invalid_client"}"#.to_owned(),
                    );
                }
                (
                    StatusCode::OK,
                    format!(
                        r#"{{"access_token":"t{n}","token_type":"Bearer","expires_in":{lifetime}}}"#
                    ),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/token"), asked)
}

fn grant(url: String) -> ClientCredentials {
    ClientCredentials::new(
        url,
        "vetting".into(),
        "s3cret & more".to_owned().into(),
        Some("pathway.lookup".into()),
    )
    .expect("a client")
}

#[tokio::test]
async fn a_token_is_kept_while_fresh_and_renewed_by_itself() {
    let (url, asked) = token_endpoint(2, false).await;
    let credentials = grant(url);
    let tokens = futures::future::join_all((0..10).map(|_| credentials.token())).await;
    assert!(
        tokens.iter().all(|t| t.as_deref().ok() == Some("t1")),
        "{tokens:?}"
    );
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "concurrent callers share one grant"
    );

    // Four fifths of its two seconds later, a new one is asked for.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(credentials.token().await.expect("a token"), "t2");
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refused_credentials_say_where_and_why() {
    let (url, _) = token_endpoint(60, true).await;
    let error = format!(
        "{:#}",
        grant(url.clone()).token().await.expect_err("refused")
    );
    assert!(error.contains(&url), "{error}");
    assert!(error.contains("401"), "{error}");
    assert!(error.contains("invalid_client"), "{error}");
    assert!(
        !error.contains("s3cret"),
        "no secret in the message: {error}"
    );
}
