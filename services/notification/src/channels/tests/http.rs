//! Unit tests of `http.rs`, against real local HTTP servers.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::*;
use crate::channels::SendError;

/// A local server: `/redirect` answers 307 to `/target`, which counts its
/// hits; `/endless` answers 200 with a body that never ends.
async fn serve() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/redirect",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, "/target")],
                )
            }),
        )
        .route(
            "/target",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::NO_CONTENT }
            }),
        )
        .route(
            "/endless",
            get(|| async {
                let chunk = Bytes::from(vec![b'x'; 8192]);
                Body::from_stream(futures::stream::repeat_with(move || {
                    Ok::<_, Infallible>(chunk.clone())
                }))
                .into_response()
            }),
        )
        .route("/small", get(|| async { "a short answer" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("127.0.0.1:{port}"), hits)
}

#[test]
fn loopback_private_link_local_and_other_non_public_addresses_are_named() {
    for (ip, kind) in [
        ("127.0.0.1", Some("loopback")),
        ("10.1.2.3", Some("private (RFC 1918)")),
        ("172.16.0.1", Some("private (RFC 1918)")),
        ("172.31.255.255", Some("private (RFC 1918)")),
        ("192.168.1.1", Some("private (RFC 1918)")),
        ("169.254.169.254", Some("link-local")),
        (
            "100.64.0.1",
            Some("shared (carrier-grade NAT, 100.64.0.0/10)"),
        ),
        ("0.0.0.0", Some("\"this network\" (0.0.0.0/8)")),
        ("224.0.0.1", Some("multicast")),
        ("255.255.255.255", Some("reserved (240.0.0.0/4)")),
        ("::1", Some("loopback")),
        ("::", Some("unspecified")),
        ("fc00::1", Some("unique local (fc00::/7)")),
        ("fd12:3456::1", Some("unique local (fc00::/7)")),
        ("fe80::1", Some("link-local")),
        ("::ffff:10.0.0.1", Some("private (RFC 1918)")),
        ("::ffff:127.0.0.1", Some("loopback")),
        ("2002:a00:1::1", Some("private (RFC 1918)")),
        ("64:ff9b::a00:1", Some("non-global (outside 2000::/3)")),
        ("2001:db8::1", Some("documentation")),
        ("ff02::1", Some("multicast")),
        ("172.32.0.1", None),
        ("8.8.8.8", None),
        ("194.35.10.1", None),
        ("2a00:1450:4009::200e", None),
        ("::ffff:8.8.8.8", None),
    ] {
        let ip: IpAddr = ip.parse().expect("an address");
        assert_eq!(non_public(ip), kind, "{ip}");
    }
}

#[test]
fn a_url_naming_a_non_public_address_is_refused_with_the_address() {
    for (url, target) in [
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("https://[::1]/hook", "::1"),
        ("https://[fe80::1]:8443/hook", "fe80::1"),
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254",
        ),
    ] {
        let refused = check_url(url, Addresses::Public).expect_err(url);
        assert_eq!(refused.target, target);
        let reason = refused.to_string();
        assert!(reason.contains(target), "{reason}");
        assert!(reason.contains("allow_private_addresses"), "{reason}");
        check_url(url, Addresses::Any).expect("allowed explicitly");
    }
    check_url("https://gp.example.org/hook", Addresses::Public).expect("a name: resolved later");
    check_url("https://8.8.8.8/hook", Addresses::Public).expect("public");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_before_connecting() {
    let (address, hits) = serve().await;
    let port = address.rsplit(':').next().expect("a port");
    let url = format!("http://localhost:{port}/target");
    let public = client(Duration::from_secs(5), Addresses::Public).expect("a client");
    let error = public.post(&url).send().await.expect_err("refused");
    let refused = refused_address(&error).expect("refused for its address");
    assert!(refused.target.starts_with("localhost ("), "{refused:?}");
    assert_eq!(refused.kind, "loopback");
    match SendError::from_reqwest(&error) {
        SendError::Permanent(reason) => {
            assert!(reason.contains("localhost ("), "{reason}");
            assert!(reason.contains("loopback"), "{reason}");
        }
        other => panic!("not a permanent failure: {other:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    let any = client(Duration::from_secs(5), Addresses::Any).expect("a client");
    let response = any.post(&url).send().await.expect("allowed explicitly");
    assert_eq!(response.status(), 204);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_a_permanent_failure() {
    let (address, hits) = serve().await;
    let any = client(Duration::from_secs(5), Addresses::Any).expect("a client");
    let response = any
        .post(format!("http://{address}/redirect"))
        .body("{}")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 307);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the target got nothing");
    let error = SendError::from_status(response.status(), None, "");
    assert!(!error.is_retryable());
    let reason = error.to_string();
    assert!(reason.contains("307"), "{reason}");
    assert!(reason.contains("redirects are not followed"), "{reason}");
}

#[tokio::test]
async fn no_more_than_the_cap_of_an_answer_is_read() {
    let (address, _) = serve().await;
    let any = client(Duration::from_secs(30), Addresses::Any).expect("a client");
    let endless = any
        .get(format!("http://{address}/endless"))
        .send()
        .await
        .expect("an answer");
    let body = read_capped(endless).await.expect("read up to the cap");
    assert_eq!(body.bytes.len(), MAX_RESPONSE_BYTES);
    assert!(body.truncated);

    let small = any
        .get(format!("http://{address}/small"))
        .send()
        .await
        .expect("an answer");
    let body = read_capped(small).await.expect("read");
    assert_eq!(body.text(), "a short answer");
    assert!(!body.truncated);
}
