//! Unit tests of `outcome.rs`.

use super::*;
use chrono::TimeZone;

fn wire(kind: proto::OutcomeKind) -> proto::Outcome {
    proto::Outcome {
        kind: kind as i32,
        ..proto::Outcome::default()
    }
}

fn accept(priority: proto::Priority) -> proto::Outcome {
    proto::Outcome {
        priority: priority as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..wire(proto::OutcomeKind::Accept)
    }
}

#[test]
fn bad_outcomes_name_the_field() {
    let settings = BoardSettings::default();
    let cases: Vec<(proto::Outcome, &str)> = vec![
        (wire(proto::OutcomeKind::Unspecified), "outcome.kind"),
        (
            proto::Outcome {
                kind: 99,
                ..proto::Outcome::default()
            },
            "outcome.kind",
        ),
        (
            wire(proto::OutcomeKind::Accept),
            "outcome.priority: required",
        ),
        (
            proto::Outcome {
                mode: 0,
                ..accept(proto::Priority::Urgent)
            },
            "outcome.mode: required",
        ),
        (
            proto::Outcome {
                priority: 1,
                ..wire(proto::OutcomeKind::Physiotherapy)
            },
            "outcome.priority: only accept",
        ),
        (
            wire(proto::OutcomeKind::AdviceToReferrer),
            "outcome.advice: required",
        ),
        (
            proto::Outcome {
                partner: "acme".into(),
                ..wire(proto::OutcomeKind::SelfManagement)
            },
            "outcome.partner: \"acme\"",
        ),
        (
            wire(proto::OutcomeKind::Redirect),
            "outcome.reason: required",
        ),
        (
            proto::Outcome {
                reason: "not pain".into(),
                ..wire(proto::OutcomeKind::Decline)
            },
            "outcome.rejection_reason: required",
        ),
        (
            proto::Outcome {
                reason: "not pain".into(),
                rejection_reason: "04".into(),
                ..wire(proto::OutcomeKind::Decline)
            },
            "outcome.rejection_reason: \"04\"",
        ),
    ];
    for (outcome, expected) in cases {
        let error = Outcome::from_proto(&outcome, &settings).expect_err(expected);
        assert!(
            error.to_string().starts_with(expected),
            "{error} / {expected}"
        );
    }
}

#[test]
fn a_disabled_outcome_is_refused() {
    let settings = BoardSettings {
        disabled_outcomes: vec!["physiotherapy".into()],
        ..BoardSettings::default()
    };
    assert_eq!(
        Outcome::from_proto(&wire(proto::OutcomeKind::Physiotherapy), &settings),
        Err(OutcomeError::NotOffered("physiotherapy"))
    );
}

#[test]
fn signposting_and_configured_partners_are_self_management() {
    let settings = BoardSettings::default();
    let signpost = Outcome::from_proto(&wire(proto::OutcomeKind::SelfManagement), &settings);
    assert_eq!(signpost, Ok(Outcome::SelfManagement { partner: None }));
    let direct = proto::Outcome {
        partner: "pain-association-scotland".into(),
        ..wire(proto::OutcomeKind::SelfManagement)
    };
    assert!(Outcome::from_proto(&direct, &settings).is_ok());
}

#[test]
fn target_dates_count_calendar_days_from_the_decided_date() {
    let settings = BoardSettings::default();
    let at = Utc
        .with_ymd_and_hms(2025, 2, 20, 23, 30, 0)
        .single()
        .expect("a time");
    let urgent = Outcome::from_proto(&accept(proto::Priority::Urgent), &settings).expect("valid");
    assert_eq!(
        urgent.target_date(at, &settings),
        NaiveDate::from_ymd_opt(2025, 3, 20)
    );
    let routine = Outcome::from_proto(&accept(proto::Priority::Routine), &settings).expect("valid");
    assert_eq!(
        routine.target_date(at, &settings),
        NaiveDate::from_ymd_opt(2025, 5, 15)
    );
    assert_eq!(Outcome::PatientOptIn.target_date(at, &settings), None);
    assert_eq!(
        Outcome::PatientOptIn.opt_in_deadline(at, &settings),
        Some(at + chrono::Duration::days(14))
    );
}

#[test]
fn outcomes_survive_the_wire() {
    let settings = BoardSettings::default();
    let decline = proto::Outcome {
        reason: "not a pain referral".into(),
        rejection_reason: "02".into(),
        ..wire(proto::OutcomeKind::Decline)
    };
    let parsed = Outcome::from_proto(&decline, &settings).expect("valid");
    assert_eq!(parsed.to_proto(), decline);
    let parsed = Outcome::from_proto(&accept(proto::Priority::Soon), &settings).expect("valid");
    assert_eq!(parsed.to_proto(), accept(proto::Priority::Soon));
}
