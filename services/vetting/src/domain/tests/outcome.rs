//! Unit tests of `outcome.rs`.

use super::*;

fn request(json: serde_json::Value) -> OutcomeRequest {
    serde_json::from_value(json).expect("a request")
}

fn fields(result: Result<ValidOutcome, Vec<FieldError>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn an_accept_needs_priority_and_mode() {
    let settings = BoardSettings::default();
    let ok = request(serde_json::json!({
        "outcome": "accept", "priority": "soon", "mode": "video", "rationale": "needs the clinic"
    }))
    .validate(&settings, &[])
    .expect("valid");
    assert_eq!(ok.outcome.kind, proto::OutcomeKind::Accept as i32);
    assert_eq!(ok.outcome.priority, proto::Priority::Soon as i32);
    assert_eq!(ok.outcome.mode, proto::AppointmentMode::Video as i32);
    let missing = request(serde_json::json!({"outcome": "accept", "rationale": "r"}));
    assert_eq!(
        fields(missing.validate(&settings, &[])),
        ["priority", "mode"]
    );
}

#[test]
fn fields_of_other_outcomes_are_refused() {
    let settings = BoardSettings::default();
    let wrong = request(serde_json::json!({
        "outcome": "physiotherapy", "priority": "urgent", "advice": "rest",
        "rejection_reason": "01", "rationale": "r"
    }));
    assert_eq!(
        fields(wrong.validate(&settings, &[])),
        ["priority", "advice", "rejection_reason"]
    );
}

#[test]
fn a_decline_needs_a_coded_reason() {
    let settings = BoardSettings::default();
    let bad = request(serde_json::json!({
        "outcome": "decline", "rejection_reason": "04", "rationale": "r"
    }));
    assert_eq!(
        fields(bad.validate(&settings, &[])),
        ["rejection_reason", "reason"]
    );
}

#[test]
fn red_flags_need_an_override_to_close_with_advice() {
    let settings = BoardSettings::default();
    let flags = vec!["history_of_cancer".to_owned()];
    let advice = serde_json::json!({
        "outcome": "advice_to_referrer", "advice": "try this", "rationale": "r"
    });
    assert_eq!(
        fields(request(advice.clone()).validate(&settings, &flags)),
        ["red_flag_override_reason"]
    );
    let mut with_override = advice;
    with_override["red_flag_override_reason"] = "discussed with the GP by phone".into();
    let ok = request(with_override.clone())
        .validate(&settings, &flags)
        .expect("valid with an override");
    assert_eq!(
        ok.red_flag_override_reason.as_deref(),
        Some("discussed with the GP by phone")
    );
    // Without red flags the override has no place.
    assert_eq!(
        fields(request(with_override).validate(&settings, &[])),
        ["red_flag_override_reason"]
    );
}

#[test]
fn the_boards_catalogue_and_partners_apply() {
    let settings = BoardSettings {
        disabled_outcomes: vec!["physiotherapy".into()],
        ..BoardSettings::default()
    };
    let off = request(serde_json::json!({"outcome": "physiotherapy", "rationale": "r"}));
    assert_eq!(fields(off.validate(&settings, &[])), ["outcome"]);
    let unknown_partner = request(serde_json::json!({
        "outcome": "self_management", "partner": "nobody", "rationale": "r"
    }));
    assert_eq!(
        fields(unknown_partner.validate(&settings, &[])),
        ["partner"]
    );
    let signpost = request(serde_json::json!({"outcome": "self_management", "rationale": "r"}));
    assert!(signpost.validate(&settings, &[]).is_ok());
}

#[test]
fn blanks_count_as_missing() {
    let settings = BoardSettings::default();
    let blank = request(serde_json::json!({
        "outcome": "accept", "priority": " ", "mode": "", "rationale": "  "
    }));
    assert_eq!(
        fields(blank.validate(&settings, &[])),
        ["priority", "mode", "rationale"]
    );
}
