use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};

use super::*;

/// A local authenticator on a fresh key, and that key.
fn local() -> (Authenticator, Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a directory");
    let settings = AuthSettings {
        local_key_file: dir.path().join("jwt.key"),
        ..AuthSettings::default()
    };
    let authenticator = Authenticator::from_settings(&settings).expect("a local authenticator");
    let key = crate::keys::load_or_create_key(&settings.local_key_file).expect("the key");
    (authenticator, key, dir)
}

/// A clinician's token signed with `key`, not valid before `nbf` seconds from now.
fn token_not_before(key: &[u8], nbf: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": "clinician-1",
        "role": "clinician",
        "boards": ["highland"],
        "iat": now,
        "exp": now + 3600,
        "nbf": now + nbf,
    });
    jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .expect("a token")
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let (authenticator, key, _dir) = local();
    let early = authenticator
        .verify(&token_not_before(&key, 3600))
        .await
        .expect_err("valid only in an hour");
    assert!(matches!(early, AuthError::Invalid(_)), "{early:?}");
    let claims = authenticator
        .verify(&token_not_before(&key, -10))
        .await
        .expect("valid since ten seconds ago");
    assert_eq!(claims.sub, "clinician-1");
    // Within the leeway a clock a little ahead is forgiven.
    authenticator
        .verify(&token_not_before(&key, 10))
        .await
        .expect("ten seconds ahead is within the leeway");
    let issued = authenticator
        .issue(&Claims::new(
            "svc",
            Role::Service,
            vec!["*".into()],
            Duration::from_secs(60),
        ))
        .expect("a token without nbf");
    authenticator
        .verify(&issued)
        .await
        .expect("a token without nbf is still accepted");
}
