//! Unit tests of `when.rs`: 00:30 on Scotland's clock on both sides of each
//! clock change (forward on Sunday 29 March 2026 at 01:00 GMT, back on Sunday
//! 25 October 2026 at 02:00 BST) and across the new year.

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

#[test]
fn dates_and_times_are_shown_on_scotlands_clock() {
    // (instant, date, date and time, time)
    let cases = [
        // Before the clocks go forward: GMT.
        (
            "2026-03-29T00:30:00Z",
            "29 Mar 2026",
            "29 Mar 2026 00:30",
            "00:30",
        ),
        // After: BST, so 23:30 UTC is 00:30 the next day.
        (
            "2026-03-29T23:30:00Z",
            "30 Mar 2026",
            "30 Mar 2026 00:30",
            "00:30",
        ),
        // Before the clocks go back: still BST at 00:30 on the Sunday.
        (
            "2026-10-24T23:30:00Z",
            "25 Oct 2026",
            "25 Oct 2026 00:30",
            "00:30",
        ),
        // After: GMT again.
        (
            "2026-10-26T00:30:00Z",
            "26 Oct 2026",
            "26 Oct 2026 00:30",
            "00:30",
        ),
        // A summer afternoon.
        (
            "2026-07-01T13:05:00Z",
            "01 Jul 2026",
            "01 Jul 2026 14:05",
            "14:05",
        ),
        // Across the new year (GMT).
        (
            "2026-12-31T23:30:00Z",
            "31 Dec 2026",
            "31 Dec 2026 23:30",
            "23:30",
        ),
        (
            "2027-01-01T00:30:00Z",
            "01 Jan 2027",
            "01 Jan 2027 00:30",
            "00:30",
        ),
    ];
    for (at, day, day_and_time, clock) in cases {
        let at = utc(at);
        assert_eq!(date(at), day, "{at}");
        assert_eq!(date_time(at), day_and_time, "{at}");
        assert_eq!(time(at), clock, "{at}");
    }
}
