//! Unit tests of `information_reminder.rs`: when a question is overdue, on
//! the board's working days.

use chrono::NaiveDate;
use pathway_proto::board::BoardSettings;
use pathway_proto::board::history::{SettingsHistory, SettingsVersion};

use super::is_overdue;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn board(extra_holidays: Vec<NaiveDate>) -> SettingsHistory {
    SettingsHistory::constant(SettingsVersion::of(&BoardSettings {
        extra_holidays,
        ..BoardSettings::default()
    }))
}

#[test]
fn overdue_on_the_fifth_working_day_and_not_the_day_before() {
    let history = board(Vec::new());
    // Asked on Monday 2 November 2026: the fifth working day after is Monday 9th.
    let asked = ymd(2026, 11, 2);
    assert!(!is_overdue(&history, asked, ymd(2026, 11, 6), 5));
    // The weekend does not count.
    assert!(!is_overdue(&history, asked, ymd(2026, 11, 8), 5));
    assert!(is_overdue(&history, asked, ymd(2026, 11, 9), 5));
    assert!(is_overdue(&history, asked, ymd(2026, 11, 20), 5));
}

#[test]
fn bank_holidays_and_the_boards_own_closures_do_not_count() {
    // Asked on Wednesday 23 December 2026: Christmas Day, Boxing Day's
    // substitute (Monday 28th) and the board's own Tuesday 29th are closed.
    let asked = ymd(2026, 12, 23);
    let history = board(vec![ymd(2026, 12, 29)]);
    // Working days after: 24th, 30th, 31st; New Year's Day and the 2nd's
    // substitute (Monday 4 January 2027) are holidays; then 5th and 6th.
    assert!(!is_overdue(&history, asked, ymd(2027, 1, 5), 5));
    assert!(is_overdue(&history, asked, ymd(2027, 1, 6), 5));
    // Without the board's own closure, a working day sooner.
    let plain = board(Vec::new());
    assert!(!is_overdue(&plain, asked, ymd(2027, 1, 4), 5));
    assert!(is_overdue(&plain, asked, ymd(2027, 1, 5), 5));
}

#[test]
fn a_question_asked_today_is_not_overdue_today() {
    let history = board(Vec::new());
    assert!(!is_overdue(&history, ymd(2026, 11, 2), ymd(2026, 11, 2), 1));
    assert!(is_overdue(&history, ymd(2026, 11, 2), ymd(2026, 11, 3), 1));
}
