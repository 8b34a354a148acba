//! Production token validation: keys fetched from an identity provider's
//! JWKS document, served here by a real local HTTP server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pathway_common::auth::{AuthError, Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;

const KEY: &str = include_str!("fixtures/idp-test-key.pem");
const JWKS: &str = include_str!("fixtures/idp-test-jwks.json");

/// The identity provider's address, and how many times its keys were fetched.
async fn identity_provider_counting() -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { ([("content-type", "application/json")], JWKS) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/jwks.json"), fetches)
}

async fn identity_provider() -> String {
    identity_provider_counting().await.0
}

fn sign(claims: &Claims, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(KEY.as_bytes()).expect("the fixture key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn claims() -> Claims {
    let mut claims = Claims::new(
        "dr-a@nhs.scot",
        Role::Clinician,
        vec!["highland".into()],
        Duration::from_secs(300),
    );
    claims.iss = Some("https://idp.highland.example".into());
    claims.aud = Some("pathway".into());
    claims
}

#[tokio::test]
async fn tokens_from_the_identity_provider_are_checked_against_its_keys() {
    let authenticator = Authenticator::from_settings(&AuthSettings {
        jwks_url: Some(identity_provider().await),
        issuer: Some("https://idp.highland.example".into()),
        audience: Some("pathway".into()),
        ..AuthSettings::default()
    })
    .expect("authenticator");

    let verified = authenticator
        .verify(&sign(&claims(), "test-2026"))
        .await
        .expect("a valid token");
    assert_eq!(verified.sub, "dr-a@nhs.scot");
    assert_eq!(verified.role, Role::Clinician);

    assert!(matches!(
        authenticator.verify(&sign(&claims(), "rotated-away")).await,
        Err(AuthError::Invalid(_))
    ));

    let mut expired = claims();
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    assert!(matches!(
        authenticator.verify(&sign(&expired, "test-2026")).await,
        Err(AuthError::Expired)
    ));

    let mut other_audience = claims();
    other_audience.aud = Some("someone-else".into());
    assert!(
        authenticator
            .verify(&sign(&other_audience, "test-2026"))
            .await
            .is_err()
    );

    // A symmetric token must never be accepted where keys come from a JWKS.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"guess"),
    )
    .expect("sign");
    assert!(matches!(
        authenticator.verify(&hs).await,
        Err(AuthError::Invalid(_))
    ));
}

#[tokio::test]
async fn an_unreachable_identity_provider_is_reported_as_such() {
    let authenticator = Authenticator::from_settings(&AuthSettings {
        jwks_url: Some("http://127.0.0.1:9/jwks.json".into()),
        ..AuthSettings::default()
    })
    .expect("authenticator");
    assert!(matches!(
        authenticator.verify(&sign(&claims(), "test-2026")).await,
        Err(AuthError::KeysUnavailable(_))
    ));
}

#[tokio::test]
async fn made_up_key_ids_do_not_make_every_request_fetch_the_keys() {
    let (url, fetches) = identity_provider_counting().await;
    let authenticator = Authenticator::from_settings(&AuthSettings {
        jwks_url: Some(url),
        issuer: Some("https://idp.highland.example".into()),
        audience: Some("pathway".into()),
        ..AuthSettings::default()
    })
    .expect("authenticator");
    authenticator
        .verify(&sign(&claims(), "test-2026"))
        .await
        .expect("a valid token");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let attempts = (0..50).map(|n| {
        let token = sign(&claims(), &format!("made-up-{n}"));
        let authenticator = &authenticator;
        async move { authenticator.verify(&token).await }
    });
    for refused in futures::future::join_all(attempts).await {
        assert!(matches!(refused, Err(AuthError::Invalid(_))), "{refused:?}");
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "keys fetched a moment ago are not fetched again for an unknown kid"
    );
    authenticator
        .verify(&sign(&claims(), "test-2026"))
        .await
        .expect("the real key still works");
}
