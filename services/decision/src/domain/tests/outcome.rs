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
            "outcome.advice_text_id: required",
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
            "outcome.reason_text_id: required",
        ),
        (
            proto::Outcome {
                reason_text_id: "text-1".into(),
                ..wire(proto::OutcomeKind::Decline)
            },
            "outcome.rejection_reason: required",
        ),
        (
            proto::Outcome {
                reason_text_id: "text-1".into(),
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
        reason_text_id: "text-2".into(),
        rejection_reason: "02".into(),
        ..wire(proto::OutcomeKind::Decline)
    };
    let parsed = Outcome::from_proto(&decline, &settings).expect("valid");
    assert_eq!(parsed.to_proto(), decline);
    let parsed = Outcome::from_proto(&accept(proto::Priority::Soon), &settings).expect("valid");
    assert_eq!(parsed.to_proto(), accept(proto::Priority::Soon));
}

/// An instant, written in UTC.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn target_dates_count_from_the_scottish_day_of_the_decision() {
    let settings = BoardSettings::default();
    let urgent = Outcome::from_proto(&accept(proto::Priority::Urgent), &settings).expect("valid");
    // (decided at, in UTC; the target 28 days after its Scottish day)
    let cases = [
        // 00:30 GMT on Sunday 29 March, before the clocks go forward.
        (utc(2026, 3, 29, 0, 30), day(2026, 4, 26)),
        // 23:30 BST that Sunday evening: still the 29th.
        (utc(2026, 3, 29, 22, 30), day(2026, 4, 26)),
        // 00:30 BST on Monday 30 March: the 30th, though still the 29th in UTC.
        (utc(2026, 3, 29, 23, 30), day(2026, 4, 27)),
        // 00:30 BST on Sunday 25 October, before the clocks go back.
        (utc(2026, 10, 24, 23, 30), day(2026, 11, 22)),
        // 00:30 GMT on Monday 26 October.
        (utc(2026, 10, 26, 0, 30), day(2026, 11, 23)),
        // Across the new year: 23:30 on Hogmanay, then 00:30 on New Year's Day.
        (utc(2026, 12, 31, 23, 30), day(2027, 1, 28)),
        (utc(2027, 1, 1, 0, 30), day(2027, 1, 29)),
    ];
    for (decided_at, target) in cases {
        assert_eq!(
            urgent.target_date(decided_at, &settings),
            Some(target),
            "decided at {decided_at}"
        );
    }
}

#[test]
fn an_opt_in_window_lasts_its_days_on_scotlands_clock() {
    let settings = BoardSettings::default();
    // (decided at, the deadline 14 Scottish days later at the same time on
    // Scotland's clock), both in UTC
    let cases = [
        // 00:30 GMT on 29 March: 00:30 BST on 12 April.
        (utc(2026, 3, 29, 0, 30), utc(2026, 4, 11, 23, 30)),
        // 00:30 BST on 30 March: 00:30 BST on 13 April.
        (utc(2026, 3, 29, 23, 30), utc(2026, 4, 12, 23, 30)),
        // A window the clocks go forward in: 00:30 GMT on 20 March to
        // 00:30 BST on 3 April.
        (utc(2026, 3, 20, 0, 30), utc(2026, 4, 2, 23, 30)),
        // 00:30 BST on 25 October: 00:30 GMT on 8 November.
        (utc(2026, 10, 24, 23, 30), utc(2026, 11, 8, 0, 30)),
        // 00:30 GMT on 26 October: 00:30 GMT on 9 November.
        (utc(2026, 10, 26, 0, 30), utc(2026, 11, 9, 0, 30)),
        // A window the clocks go back in: 00:30 BST on 21 October to
        // 00:30 GMT on 4 November.
        (utc(2026, 10, 20, 23, 30), utc(2026, 11, 4, 0, 30)),
        // Across the new year.
        (utc(2026, 12, 25, 0, 30), utc(2027, 1, 8, 0, 30)),
        (utc(2026, 12, 31, 23, 30), utc(2027, 1, 14, 23, 30)),
        // 01:30 on 29 March never shows on the clock: an hour later, 02:30 BST.
        (utc(2026, 3, 15, 1, 30), utc(2026, 3, 29, 1, 30)),
        // 01:30 on 25 October shows twice: the later, 01:30 GMT.
        (utc(2026, 10, 11, 0, 30), utc(2026, 10, 25, 1, 30)),
    ];
    for (decided_at, deadline) in cases {
        let found = Outcome::PatientOptIn.opt_in_deadline(decided_at, &settings);
        assert_eq!(found, Some(deadline), "decided at {decided_at}");
        assert_eq!(
            days::day_of(deadline),
            days::day_of(decided_at) + Days::new(14),
            "the day a patient is told is 14 Scottish days after the decision"
        );
    }
}

#[test]
fn an_opt_in_at_half_past_midnight_on_the_last_day_is_in_time_after_the_clocks_go_back() {
    let settings = BoardSettings::default();
    // Decided at 00:30 BST on 25 October; the window closes 00:30 GMT on
    // 8 November, an hour after 14 days of 24 hours.
    let decided_at = utc(2026, 10, 24, 23, 30);
    let deadline = Outcome::PatientOptIn
        .opt_in_deadline(decided_at, &settings)
        .expect("a deadline");
    let at = utc(2026, 11, 8, 0, 15);
    assert_eq!(
        crate::domain::opt_in(crate::domain::WindowState::Open, at, deadline),
        Ok(crate::domain::OptIn::Accepted)
    );
}
