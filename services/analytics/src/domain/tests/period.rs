//! Unit tests of `period.rs`.

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("test data is valid")
}

#[test]
fn months_are_cut_to_the_range() {
    let got = periods(d(2026, 1, 15), d(2026, 3, 10), Granularity::Month);
    let labels: Vec<_> = got.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
    assert_eq!(got[0].first, d(2026, 1, 15));
    assert_eq!(got[1].last, d(2026, 2, 28));
    assert_eq!(got[2].last, d(2026, 3, 10));
}

#[test]
fn weeks_start_on_monday_and_take_the_iso_year() {
    let got = periods(d(2026, 1, 1), d(2026, 1, 5), Granularity::Week);
    assert_eq!(got[0].label, "2026-W01");
    assert_eq!(got[0].first, d(2026, 1, 1));
    assert_eq!(got[0].last, d(2026, 1, 4));
    assert_eq!(got[1].label, "2026-W02");
}

#[test]
fn quarters_are_named_by_their_number() {
    let got = periods(d(2026, 2, 1), d(2026, 12, 31), Granularity::Quarter);
    let labels: Vec<_> = got.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
}
