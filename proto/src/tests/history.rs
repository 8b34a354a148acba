//! Unit tests of `board/history.rs`: which settings are in force on a day,
//! and working days across changes.

use super::*;
use crate::days;

fn day(text: &str) -> NaiveDate {
    text.parse().expect("test data is valid")
}

fn target(days: u32) -> SettingsVersion {
    SettingsVersion {
        vetting_target_working_days: days,
        ..SettingsVersion::default()
    }
}

#[test]
fn a_change_is_in_force_from_its_day_and_not_before() {
    let history = SettingsHistory::default().with_change_from(day("2026-06-03"), target(3));
    let default = BoardSettings::default().vetting_target_working_days;
    assert_eq!(history.target_on(day("2026-06-02")), default);
    assert_eq!(history.target_on(day("2026-06-03")), 3);
    assert_eq!(history.target_on(day("2027-01-01")), 3);
    // 00:30 BST on 3 June is 23:30 UTC on 2 June: the new target's day.
    let received = "2026-06-02T23:30:00Z".parse().expect("an instant");
    assert_eq!(history.target_on(days::day_of(received)), 3);
    // In winter 23:30 UTC is 23:30 in Scotland: still the old day.
    let history = SettingsHistory::default().with_change_from(day("2026-12-01"), target(3));
    let received = "2026-11-30T23:30:00Z".parse().expect("an instant");
    assert_eq!(history.target_on(days::day_of(received)), default);
}

#[test]
fn a_later_change_from_the_same_day_wins_and_order_of_days_is_kept() {
    let history = SettingsHistory::default()
        .with_change_from(day("2026-09-01"), target(9))
        .with_change_from(day("2026-06-01"), target(6))
        .with_change_from(day("2026-06-01"), target(7));
    assert_eq!(history.target_on(day("2026-06-15")), 7);
    assert_eq!(history.target_on(day("2026-09-01")), 9);
}

#[test]
fn working_days_across_changes_add_up_by_each_days_calendar() {
    let closed = |d: &str| SettingsVersion {
        calendar: WorkingCalendar::new(true, &[day(d)]),
        vetting_target_working_days: 10,
    };
    // Closed Wed 10 June, then from Thu 11 closed Fri 12, from Mon 15 none
    // of its own.
    let history = SettingsHistory::constant(closed("2026-06-10"))
        .with_change_from(day("2026-06-11"), closed("2026-06-12"))
        .with_change_from(day("2026-06-15"), SettingsVersion::default());
    // Mon 8 to Tue 16: Tue 9, (Wed 10), Thu 11, (Fri 12), Mon 15, Tue 16.
    assert_eq!(
        history.working_days_between(day("2026-06-08"), day("2026-06-16")),
        4
    );
    assert_eq!(
        history.working_days_between(day("2026-06-16"), day("2026-06-08")),
        0
    );
    assert_eq!(
        history.working_days_between(day("2026-06-10"), day("2026-06-11")),
        1
    );
}

#[test]
fn one_calendar_and_a_history_without_changes_count_alike() {
    let calendar = WorkingCalendar::new(true, &[day("2026-06-10")]);
    let history = SettingsHistory::constant(SettingsVersion {
        calendar: calendar.clone(),
        vetting_target_working_days: 5,
    });
    let (from, to) = (day("2025-12-20"), day("2026-06-30"));
    assert_eq!(
        WorkingDays::working_days_between(&history, from, to),
        WorkingDays::working_days_between(&calendar, from, to)
    );
}
