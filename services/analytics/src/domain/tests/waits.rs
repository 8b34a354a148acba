//! Unit tests of `waits.rs`.

use super::*;
use crate::domain::metrics::SettingsVersion;
use chrono::TimeZone;
use pathway_proto::calendar::WorkingCalendar;

fn at(m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, 10, 0, 0)
        .single()
        .expect("test data is valid")
}

#[test]
fn good_friday_and_a_pause_are_not_counted() {
    // Wed 1 April 2026 to Wed 8 April: Thu 2, (Good Friday 3), Mon 6,
    // Tue 7, Wed 8. Asked Thu 2, answered Tue 7: (Fri 3), Mon 6, Tue 7.
    let pause = Pause {
        information_request_id: "q".into(),
        requested_at: at(4, 2),
        answered_at: Some(at(4, 7)),
    };
    let got = wait(&BoardContext::default(), at(4, 1), at(4, 8), &[pause]);
    assert_eq!(
        got,
        Wait {
            working_days: 4,
            calendar_days: 7,
            working_days_paused: 2,
            calendar_days_paused: 5,
        }
    );
    assert_eq!(got.working_days_excluding_paused(), 2);
}

#[test]
fn overlapping_and_unanswered_pauses_count_once_up_to_vetting() {
    let pauses = [
        Pause {
            information_request_id: "a".into(),
            requested_at: at(5, 11),
            answered_at: Some(at(5, 14)),
        },
        Pause {
            information_request_id: "b".into(),
            requested_at: at(5, 13),
            answered_at: None,
        },
    ];
    let got = wait(&BoardContext::default(), at(5, 11), at(5, 15), &pauses);
    assert_eq!(got.calendar_days_paused, 4);
    assert_eq!(got.calendar_days_excluding_paused(), 0);
}

#[test]
fn quantiles_interpolate_like_a_spreadsheet() {
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(quantile(&[3], 0.9), Some(3.0));
    assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2.5));
    // PERCENTILE.INC({1..10}, 0.9) = 9.1
    let ten: Vec<u32> = (1..=10).collect();
    let p90 = quantile(&ten, 0.9).expect("test data is valid");
    assert!((p90 - 9.1).abs() < 1e-9);
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test data is valid")
}

#[test]
fn a_wait_counts_scottish_days_either_side_of_each_clock_change_and_the_new_year() {
    let calendar = BoardContext::default();
    let none = |received: &str, vetted: &str| wait(&calendar, utc(received), utc(vetted), &[]);
    // 00:30 BST on Monday 30 March (23:30 UTC on Sunday), vetted that
    // afternoon: the same Scottish day, no wait.
    let got = none("2026-03-29T23:30:00Z", "2026-03-30T14:00:00Z");
    assert_eq!((got.working_days, got.calendar_days), (0, 0));
    // 00:30 GMT on Sunday 29 March, before the clocks go forward: a Sunday,
    // so vetting on Monday is one working day and one calendar day later.
    let got = none("2026-03-29T00:30:00Z", "2026-03-30T14:00:00Z");
    assert_eq!((got.working_days, got.calendar_days), (1, 1));
    // 00:30 BST on Sunday 25 October (23:30 UTC on Saturday) to Monday 26.
    let got = none("2026-10-24T23:30:00Z", "2026-10-26T09:00:00Z");
    assert_eq!((got.working_days, got.calendar_days), (1, 1));
    // 00:30 GMT on Monday 26 October, vetted at 00:15 GMT on Tuesday 27.
    let got = none("2026-10-26T00:30:00Z", "2026-10-27T00:15:00Z");
    assert_eq!((got.working_days, got.calendar_days), (1, 1));
    // Vetted at 00:30 BST on Tuesday 13 October (23:30 UTC on Monday 12),
    // received on Monday 12 at noon: one working day.
    let got = none("2026-10-12T11:00:00Z", "2026-10-12T23:30:00Z");
    assert_eq!((got.working_days, got.calendar_days), (1, 1));
    // Across the new year, Scotland is on GMT: 23:30 on Hogmanay to 00:30
    // on 4 January is four calendar days.
    let got = none("2026-12-31T23:30:00Z", "2027-01-04T00:30:00Z");
    assert_eq!(got.calendar_days, 4);
}

#[test]
fn a_pause_asked_and_answered_around_summer_midnights_counts_scottish_days() {
    // Received Monday 1 June 10:00 BST; asked at 00:30 BST on Wednesday 3
    // (23:30 UTC on Tuesday); answered on Friday 5 at 14:00; vetted Monday
    // 8. Paused Wed 3 to Fri 5: Thu 4 and Fri 5, two working days of the
    // five (Tue 2 to Mon 8).
    let pause = Pause {
        information_request_id: "q".into(),
        requested_at: utc("2026-06-02T23:30:00Z"),
        answered_at: Some(utc("2026-06-05T13:00:00Z")),
    };
    let got = wait(
        &BoardContext::default(),
        utc("2026-06-01T09:00:00Z"),
        utc("2026-06-08T09:00:00Z"),
        &[pause],
    );
    assert_eq!(
        got,
        Wait {
            working_days: 5,
            calendar_days: 7,
            working_days_paused: 2,
            calendar_days_paused: 2,
        }
    );
}

/// Highland's settings from `from`: its own non-working `days`.
fn closed_on(days: &[&str]) -> SettingsVersion {
    let days: Vec<NaiveDate> = days.iter().map(|d| d.parse().expect("a day")).collect();
    SettingsVersion {
        calendar: WorkingCalendar::new(true, &days),
        vetting_target_working_days: 10,
    }
}

#[test]
fn each_day_of_a_wait_counts_by_the_calendar_in_force_on_it_in_summer() {
    // Closed on Tue 2 June until a change from Wed 3 June closes Thu 4 and
    // Fri 5 instead (and, too late to count, Tue 2).
    let board = BoardContext::constant(closed_on(&["2026-06-02"]), None).with_change_from(
        "2026-06-03".parse().expect("a day"),
        closed_on(&["2026-06-02", "2026-06-04", "2026-06-05"]),
    );
    // Mon 1 to Mon 8: (Tue 2), Wed 3, (Thu 4), (Fri 5), Mon 8.
    let got = wait(
        &board,
        utc("2026-06-01T09:00:00Z"),
        utc("2026-06-08T09:00:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 2);
    // Received at 00:30 BST on Wed 3 June (23:30 UTC on Tue 2): the new
    // calendar's day; Thu 4 and Fri 5 closed, Mon 8 counts.
    let got = wait(
        &board,
        utc("2026-06-02T23:30:00Z"),
        utc("2026-06-08T09:00:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 1);
    // Vetted at 00:30 BST on Wed 3 June, received Mon 1: Tue 2 closed by
    // the old calendar, Wed 3 open by the new.
    let got = wait(
        &board,
        utc("2026-06-01T09:00:00Z"),
        utc("2026-06-02T23:30:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 1);
    // A wait over before the change is judged as before it.
    let got = wait(
        &board,
        utc("2026-06-01T09:00:00Z"),
        utc("2026-06-02T22:30:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 0);
}

#[test]
fn each_day_of_a_wait_counts_by_the_calendar_in_force_on_it_in_winter() {
    // Closed on Mon 30 November until a change from Tue 1 December opens it
    // and closes Wed 2 December.
    let board = BoardContext::constant(closed_on(&["2026-11-30"]), None).with_change_from(
        "2026-12-01".parse().expect("a day"),
        closed_on(&["2026-12-02"]),
    );
    // Fri 27 November to Thu 3 December: (Mon 30), Tue 1, (Wed 2), Thu 3.
    let got = wait(
        &board,
        utc("2026-11-27T12:00:00Z"),
        utc("2026-12-03T12:00:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 2);
    // In winter 00:30 in Scotland is 00:30 UTC: received at 00:30 on
    // Tue 1 December, Wed 2 closed, Thu 3 counts.
    let got = wait(
        &board,
        utc("2026-12-01T00:30:00Z"),
        utc("2026-12-03T12:00:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 1);
    // 23:30 on Mon 30 November is still that Monday: Tue 1 counts, Wed 2
    // not, Thu 3 does.
    let got = wait(
        &board,
        utc("2026-11-30T23:30:00Z"),
        utc("2026-12-03T12:00:00Z"),
        &[],
    );
    assert_eq!(got.working_days, 2);
}
