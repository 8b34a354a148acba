//! Unit tests of `board.rs`.

use super::*;

#[test]
fn outcome_codes_and_kinds_map_both_ways() {
    for code in OUTCOME_CODES {
        let kind = outcome_kind(code).expect("every code has a kind");
        assert_eq!(outcome_code(kind), Some(code));
    }
    assert_eq!(outcome_kind("request_information"), None);
    assert_eq!(outcome_code(OutcomeKind::Unspecified), None);
    assert_eq!(outcome_kind("accept"), Some(OutcomeKind::Accept));
    assert_eq!(
        outcome_kind("patient_opt_in"),
        Some(OutcomeKind::PatientOptIn)
    );
}

#[test]
fn defaults_are_valid_and_old_documents_read() {
    assert!(BoardSettings::default().problems().is_empty());
    let old: BoardSettings =
        serde_json::from_str(r#"{"vetting_target_working_days": 15}"#).expect("reads");
    assert_eq!(old.vetting_target_working_days, 15);
    assert_eq!(old.claim_lease_minutes, 30);
}

#[test]
fn problems_name_the_field() {
    let settings = BoardSettings {
        vetting_target_working_days: 0,
        disabled_outcomes: vec!["accept".into(), "teleport".into()],
        priority_target_days: PriorityTargets {
            urgent: 90,
            soon: 30,
            routine: 84,
        },
        ..BoardSettings::default()
    };
    let fields: Vec<String> = settings.problems().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "vetting_target_working_days",
            "disabled_outcomes[1]",
            "priority_target_days"
        ]
    );
    assert!(!settings.offers("accept"));
    assert!(settings.offers("decline"));
}
