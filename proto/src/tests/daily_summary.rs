//! Unit tests of `board/daily_summary.rs`: the setting read from a board's
//! document, each bad field named, and what production refuses.

use crate::board::BoardSettings;

fn problems(json: &str) -> Vec<String> {
    let settings: BoardSettings = serde_json::from_str(json).expect("the document reads");
    settings.problems().into_iter().map(|(f, _)| f).collect()
}

#[test]
fn a_manager_address_and_hour_read_and_pass() {
    let settings: BoardSettings = serde_json::from_str(
        r#"{"notification": {"daily_summary": {"email": "pain.manager@nhs.scot", "hour": 6}}}"#,
    )
    .expect("the document reads");
    let summary = settings
        .notification
        .as_ref()
        .and_then(|n| n.daily_summary.clone())
        .expect("the setting");
    assert_eq!(
        (summary.email.as_str(), summary.hour()),
        ("pain.manager@nhs.scot", 6)
    );
    assert!(settings.problems().is_empty(), "{:?}", settings.problems());
    let default_hour: BoardSettings =
        serde_json::from_str(r#"{"notification": {"daily_summary": {"email": "m@nhs.scot"}}}"#)
            .expect("the document reads");
    assert_eq!(
        default_hour
            .notification
            .and_then(|n| n.daily_summary)
            .map(|s| s.hour()),
        Some(7)
    );
}

#[test]
fn each_bad_field_is_named() {
    for email in [
        "",
        "no-at-sign",
        "two@@nhs.scot",
        "space in@nhs.scot",
        "m@nodot",
        "m@nhs..scot",
        "Manager <m@nhs.scot>",
    ] {
        let json = format!(
            r#"{{"notification": {{"daily_summary": {{"email": {}}}}}}}"#,
            serde_json::json!(email)
        );
        assert_eq!(
            problems(&json),
            ["notification.daily_summary.email"],
            "{email:?}"
        );
    }
    assert_eq!(
        problems(r#"{"notification": {"daily_summary": {"email": "m@nhs.scot", "hour": 24}}}"#),
        ["notification.daily_summary.hour"]
    );
    assert!(
        serde_json::from_str::<BoardSettings>(
            r#"{"notification": {"daily_summary": {"email": "m@nhs.scot", "when": 7}}}"#
        )
        .is_err(),
        "an unknown field is refused"
    );
}

#[test]
fn production_refuses_an_example_address() {
    let settings: BoardSettings = serde_json::from_str(
        r#"{"notification": {"messages": "notify", "webhooks": "http",
            "daily_summary": {"email": "manager@highland.example.org"}}}"#,
    )
    .expect("the document reads");
    let fields: Vec<String> = settings
        .production_problems()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert!(
        fields.contains(&"notification.daily_summary.email".to_owned()),
        "{fields:?}"
    );
    let real: BoardSettings = serde_json::from_str(
        r#"{"notification": {"messages": "notify", "webhooks": "http",
            "daily_summary": {"email": "pain.manager@nhs.scot"}}}"#,
    )
    .expect("the document reads");
    assert!(
        !real
            .production_problems()
            .iter()
            .any(|(f, _)| f.starts_with("notification.daily_summary")),
        "{:?}",
        real.production_problems()
    );
}
