//! Unit tests of `webhook.rs`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::VerifyingKey;

use super::{SigningKeys, key_id, verify};
use crate::settings::WebhookSettings;

const URL: &str = "https://gp.highland.example/pathway";
const DELIVERY: &str = "0190f1d2-0000-7000-8000-000000000001";

fn public(keys: &SigningKeys, index: usize) -> VerifyingKey {
    let bytes = STANDARD
        .decode(&keys.published()[index].public_key)
        .expect("base64");
    VerifyingKey::from_bytes(&bytes.try_into().expect("32 bytes")).expect("a key")
}

#[test]
fn the_published_key_verifies_what_was_signed_and_nothing_else() {
    let keys = SigningKeys::from_seeds([7; 32], &[]);
    let key = public(&keys, 0);
    let header = keys.sign(1_700_000_000, DELIVERY, URL, b"{}");
    assert!(header.starts_with("v2="), "{header}");
    assert!(verify(&key, &header, 1_700_000_000, DELIVERY, URL, b"{}"));
    // Every signed part counts.
    assert!(!verify(&key, &header, 1_700_000_001, DELIVERY, URL, b"{}"));
    assert!(!verify(&key, &header, 1_700_000_000, DELIVERY, URL, b"{ }"));
    assert!(!verify(
        &key,
        &header,
        1_700_000_000,
        "0190f1d2-0000-7000-8000-000000000002",
        URL,
        b"{}"
    ));
    assert!(!verify(
        &key,
        &header,
        1_700_000_000,
        DELIVERY,
        "https://other-gp.example/pathway",
        b"{}"
    ));
    // Another key, a tampered or foreign header.
    let other = SigningKeys::from_seeds([8; 32], &[]);
    assert!(!verify(
        &public(&other, 0),
        &header,
        1_700_000_000,
        DELIVERY,
        URL,
        b"{}"
    ));
    assert!(!verify(&key, "v1=00", 1_700_000_000, DELIVERY, URL, b"{}"));
    assert!(!verify(
        &key,
        &header.replace("v2=", "v2=A"),
        1_700_000_000,
        DELIVERY,
        URL,
        b"{}"
    ));
}

#[test]
fn the_key_set_names_the_signing_key_first_and_publishes_the_others_once() {
    let keys = SigningKeys::from_seeds([7; 32], &[[9; 32], [7; 32], [9; 32]]);
    let published = keys.published();
    assert_eq!(published.len(), 2, "{published:?}");
    assert_eq!(published[0].kid, keys.kid());
    assert_eq!(published[0].kid, key_id(&public(&keys, 0)));
    assert_ne!(published[1].kid, keys.kid());
    assert_eq!(published[0].kty, "OKP");
    assert_eq!(published[0].crv, "Ed25519");
    // The JWK `x` and the plain base64 are the same 32 bytes.
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&published[1].x).expect("base64url"),
        STANDARD.decode(&published[1].public_key).expect("base64")
    );
    let json = serde_json::to_value(&published[0]).expect("writes");
    assert_eq!(json["use"], "sig");
    assert_eq!(json["kid"], keys.kid());
}

#[test]
fn key_files_are_created_once_and_a_key_of_the_wrong_length_stops_the_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = WebhookSettings {
        signing_key_file: dir.path().join("signing.key"),
        published_key_files: vec![dir.path().join("next.key")],
        ..WebhookSettings::default()
    };
    let first = SigningKeys::load(&settings).expect("created");
    let again = SigningKeys::load(&settings).expect("read back");
    assert_eq!(first.published(), again.published());
    assert_eq!(first.published().len(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&settings.signing_key_file)
            .expect("the key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    std::fs::write(&settings.signing_key_file, "ab".repeat(48)).expect("written");
    let error = SigningKeys::load(&settings).expect_err("48 bytes");
    assert!(format!("{error:#}").contains("exactly 32"), "{error:#}");
}

#[test]
fn the_former_shared_secret_setting_is_refused_rather_than_ignored() {
    let error = serde_json::from_value::<WebhookSettings>(
        serde_json::json!({"signing_secret": "shared-with-every-receiver"}),
    )
    .expect_err("no longer a setting");
    assert!(error.to_string().contains("signing_secret"), "{error}");
}
