//! Unit tests of `aggregate.rs`: which Scottish day, and so which period
//! and which side of adoption, a fact's events fall on.

use super::*;
use crate::domain::metrics::SettingsVersion;
use crate::domain::period::Granularity;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test data is valid")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("test data is valid")
}

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board")
}

fn received(id: &str, at: &str) -> Fact {
    let mut fact = Fact::new(id, highland());
    fact.route = Some(Route::Remote);
    fact.received_at = Some(utc(at));
    fact
}

/// Referrals received around midnight either side of both clock changes
/// and the new year; one vetted and one withdrawn just after a summer
/// midnight.
fn facts() -> Vec<Fact> {
    let mut a = received("a", "2026-03-31T23:30:00Z"); // 00:30 BST, 1 April
    a.vetted_at = Some(utc("2026-06-30T23:30:00Z")); // 00:30 BST, 1 July
    let mut b = received("b", "2026-03-31T22:30:00Z"); // 23:30 BST, 31 March
    b.withdrawn_at = Some(utc("2026-09-30T23:15:00Z")); // 00:15 BST, 1 October
    vec![
        a,
        b,
        received("c", "2026-10-24T23:30:00Z"), // 00:30 BST, Sunday 25 October
        received("d", "2026-10-24T22:30:00Z"), // 23:30 BST, Saturday 24 October
        received("e", "2026-10-26T00:30:00Z"), // 00:30 GMT, Monday 26 October
        received("f", "2026-12-31T23:30:00Z"), // 23:30 GMT, Hogmanay
        received("g", "2027-01-01T00:30:00Z"), // 00:30 GMT, New Year's Day
        received("h", "2026-03-29T00:30:00Z"), // 00:30 GMT, Sunday 29 March
    ]
}

fn rows(split: Option<Split>, from: &str, to: &str) -> Vec<MetricsRow> {
    let boards = BTreeMap::from([(
        highland(),
        BoardContext::constant(
            SettingsVersion {
                vetting_target_working_days: 5,
                ..SettingsVersion::default()
            },
            // Switched on from Sunday 25 October, the day the clocks go back.
            Some(day("2026-10-25")),
        ),
    )]);
    let query = MetricsQuery {
        boards: vec![highland()],
        from: day(from),
        to: day(to),
        by: Granularity::Quarter,
        split,
        as_of: day("2027-06-30"),
    };
    let rules = MetricRules {
        without_specialist: Vec::new(),
        suppression_threshold: 1,
    };
    compute(&facts(), &boards, &query, &rules)
}

#[test]
fn each_event_counts_in_the_quarter_of_its_scottish_day() {
    let got: Vec<_> = rows(None, "2026-01-01", "2027-03-31")
        .iter()
        .map(|r| (r.period.clone(), r.received_remote, r.vetted, r.withdrawn))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-Q1".into(), Some(2), Some(0), Some(0)),
            ("2026-Q2".into(), Some(1), Some(0), Some(0)),
            ("2026-Q3".into(), Some(0), Some(1), Some(0)),
            ("2026-Q4".into(), Some(4), Some(0), Some(1)),
            ("2027-Q1".into(), Some(1), Some(0), Some(0)),
        ]
    );
}

#[test]
fn a_referral_received_after_midnight_on_the_switch_on_day_is_after_adoption() {
    let got: Vec<_> = rows(Some(Split::Adoption), "2026-10-01", "2026-12-31")
        .iter()
        .map(|r| (r.group.clone(), r.received_remote))
        .collect();
    // Before: d (Saturday 24 October). After: c (Sunday 25 at 00:30 BST),
    // e and f.
    assert_eq!(got, [("after".into(), Some(3)), ("before".into(), Some(1))]);
}

#[test]
fn a_re_referral_window_ends_on_the_scottish_day_six_months_on() {
    // Vetted with advice at 00:30 BST on 1 May (23:30 UTC on 30 April):
    // six months on is 1 November, so on 31 October the window is open
    // and it is not yet followed; on 1 November it is.
    let mut vetted = received("v", "2026-04-20T09:00:00Z");
    vetted.vetted_at = Some(utc("2026-04-30T23:30:00Z"));
    vetted.outcome = Some("advice_to_referrer".into());
    vetted.attributes.patient_pseudonym = "p".into();
    let boards = BTreeMap::from([(highland(), BoardContext::default())]);
    let rules = MetricRules {
        without_specialist: Vec::new(),
        suppression_threshold: 1,
    };
    let followed = |as_of: &str| {
        let query = MetricsQuery {
            boards: vec![highland()],
            from: day("2026-05-01"),
            to: day("2026-05-31"),
            by: Granularity::Month,
            split: None,
            as_of: day(as_of),
        };
        let rows = compute(std::slice::from_ref(&vetted), &boards, &query, &rules);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].vetted, Some(1), "vetted in May, in Scotland");
        rows[0].re_referral_followed_6m
    };
    assert_eq!(followed("2026-10-31"), Some(0));
    assert_eq!(followed("2026-11-01"), Some(1));
}

#[test]
fn a_wait_is_judged_by_the_target_in_force_on_its_day_of_receipt() {
    // Two referrals vetted on Monday 8 June 2026, one received at 23:30 BST
    // on Wed 3 June (three working days), one at 00:30 BST on Thu 4 June
    // (two).
    let mut early = received("early", "2026-06-03T22:30:00Z");
    early.vetted_at = Some(utc("2026-06-08T09:00:00Z"));
    let mut late = received("late", "2026-06-03T23:30:00Z");
    late.vetted_at = Some(utc("2026-06-08T09:00:00Z"));
    let target = |days: u32| SettingsVersion {
        vetting_target_working_days: days,
        ..SettingsVersion::default()
    };
    let within = |board: BoardContext| {
        let query = MetricsQuery {
            boards: vec![highland()],
            from: day("2026-06-01"),
            to: day("2026-06-30"),
            by: Granularity::Month,
            split: None,
            as_of: day("2026-12-31"),
        };
        let rules = MetricRules {
            without_specialist: Vec::new(),
            suppression_threshold: 1,
        };
        let boards = BTreeMap::from([(highland(), board)]);
        let rows = compute(&[early.clone(), late.clone()], &boards, &query, &rules);
        assert_eq!(rows[0].vetted, Some(2));
        rows[0].vetted_within_target
    };
    // A target of 3 until Wed 3 June, then 2: both within.
    let board =
        BoardContext::constant(target(3), None).with_change_from(day("2026-06-04"), target(2));
    assert_eq!(within(board), Some(2));
    // A target of 2 until Wed 3 June, then 3 from Thursday 4: the early
    // referral (three days) is judged by 2, the late one (two) by 3.
    let board =
        BoardContext::constant(target(2), None).with_change_from(day("2026-06-04"), target(3));
    assert_eq!(within(board), Some(1));
    // A change saved later with a future effective day (a target of 1 from
    // 1 July) changes neither.
    let board = BoardContext::constant(target(3), None)
        .with_change_from(day("2026-06-04"), target(2))
        .with_change_from(day("2026-07-01"), target(1));
    assert_eq!(within(board), Some(2));
}
