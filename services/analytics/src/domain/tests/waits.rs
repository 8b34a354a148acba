//! Unit tests of `waits.rs`.

use super::*;
use chrono::TimeZone;

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
    let got = wait(&WorkingCalendar::default(), at(4, 1), at(4, 8), &[pause]);
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
    let got = wait(&WorkingCalendar::default(), at(5, 11), at(5, 15), &pauses);
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
