//! Unit tests of `pii.rs`.

use super::Pii;

#[test]
fn debug_never_shows_the_value() {
    let chi = Pii::new("0101011237".to_owned());
    assert_eq!(format!("{chi:?}"), "***");
    assert_eq!(
        serde_json::to_string(&chi).ok().as_deref(),
        Some("\"0101011237\"")
    );
}
