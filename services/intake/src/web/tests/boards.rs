//! Unit tests of `boards.rs`.

use super::*;

fn fields(body: &str) -> Vec<(String, String)> {
    match parse_settings(body.as_bytes()) {
        Err(ApiError::Client { body, .. }) => body
            .fields
            .into_iter()
            .map(|f| (f.field, f.reason))
            .collect(),
        Err(other) => panic!("not a caller's error: {other:?}"),
        Ok(_) => Vec::new(),
    }
}

#[test]
fn unknown_settings_fields_are_named() {
    let top = fields(r#"{"vetting_target": 10}"#);
    assert_eq!(top[0].0, "vetting_target", "{top:?}");
    let nested = fields(r#"{"partners": [{"code": "pas", "name": "P", "phone": "1"}]}"#);
    assert_eq!(nested[0].0, "partners[0].phone", "{nested:?}");
    let deeper = fields(r#"{"priority_target_days": {"urgnt": 5}}"#);
    assert_eq!(deeper[0].0, "priority_target_days.urgnt", "{deeper:?}");
    let typed = fields(r#"{"vetting_target_working_days": "ten"}"#);
    assert_eq!(typed[0].0, "vetting_target_working_days", "{typed:?}");
    let date = fields(r#"{"extra_holidays": ["2026-02-30"]}"#);
    assert_eq!(date[0].0, "extra_holidays[0]", "{date:?}");
    assert!(fields("{}").is_empty());
}
