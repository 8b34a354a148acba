use chrono::{DateTime, NaiveDate, Utc};

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

#[test]
fn half_past_midnight_in_summer_is_that_day_in_scotland_and_the_day_before_in_utc() {
    // 00:30 BST on 1 July is 23:30 UTC on 30 June.
    let instant = at("2026-06-30T23:30:00Z");
    assert_eq!(instant.date_naive(), day("2026-06-30"));
    assert_eq!(day_of(instant), day("2026-07-01"));
}

#[test]
fn half_past_midnight_in_winter_is_the_same_day_in_both() {
    let instant = at("2026-01-15T00:30:00Z");
    assert_eq!(day_of(instant), day("2026-01-15"));
}

#[test]
fn around_the_march_clock_change() {
    // Sunday 29 March 2026: clocks go forward at 01:00 GMT.
    // 00:30 on Sunday is still GMT; 00:30 on Monday is BST.
    assert_eq!(day_of(at("2026-03-29T00:30:00Z")), day("2026-03-29"));
    assert_eq!(day_of(at("2026-03-28T23:59:59Z")), day("2026-03-28"));
    assert_eq!(day_of(at("2026-03-29T23:30:00Z")), day("2026-03-30"));
    assert_eq!(start_of(day("2026-03-29")), at("2026-03-29T00:00:00Z"));
    assert_eq!(start_of(day("2026-03-30")), at("2026-03-29T23:00:00Z"));
    // The day of the change has 23 hours.
    assert_eq!(
        (end_of(day("2026-03-29")) - start_of(day("2026-03-29"))).num_hours(),
        23
    );
}

#[test]
fn around_the_october_clock_change() {
    // Sunday 25 October 2026: clocks go back at 02:00 BST.
    // 00:30 on Sunday is BST (23:30 UTC on Saturday); 00:30 on Monday is GMT.
    assert_eq!(day_of(at("2026-10-24T23:30:00Z")), day("2026-10-25"));
    assert_eq!(day_of(at("2026-10-26T00:30:00Z")), day("2026-10-26"));
    assert_eq!(day_of(at("2026-10-25T23:30:00Z")), day("2026-10-25"));
    assert_eq!(start_of(day("2026-10-25")), at("2026-10-24T23:00:00Z"));
    assert_eq!(
        (end_of(day("2026-10-25")) - start_of(day("2026-10-25"))).num_hours(),
        25
    );
}

#[test]
fn across_the_new_year() {
    assert_eq!(day_of(at("2026-12-31T23:59:59Z")), day("2026-12-31"));
    assert_eq!(day_of(at("2027-01-01T00:30:00Z")), day("2027-01-01"));
    assert_eq!(start_of(day("2027-01-01")), at("2027-01-01T00:00:00Z"));
}

#[test]
fn every_instant_of_a_day_falls_within_its_start_and_end() {
    for text in ["2026-03-29", "2026-07-01", "2026-10-25", "2026-12-31"] {
        let d = day(text);
        assert_eq!(day_of(start_of(d)), d, "{text}");
        assert_eq!(
            day_of(end_of(d) - chrono::Duration::seconds(1)),
            d,
            "{text}"
        );
        assert_eq!(
            day_of(end_of(d)),
            d.succ_opt().expect("a next day"),
            "{text}"
        );
    }
}
