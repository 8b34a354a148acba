//! Unit tests of `webhook.rs`.

use super::signature;

#[test]
fn the_signature_covers_the_timestamp_and_the_body() {
    let one = signature(b"secret", 1_700_000_000, b"{}");
    assert!(one.starts_with("v1="));
    assert_eq!(one.len(), 3 + 64);
    assert_ne!(one, signature(b"secret", 1_700_000_001, b"{}"));
    assert_ne!(one, signature(b"secret", 1_700_000_000, b"{ }"));
    assert_ne!(one, signature(b"other", 1_700_000_000, b"{}"));
}
