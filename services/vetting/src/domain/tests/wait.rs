//! Unit tests of `wait.rs`.

use super::*;

fn day(d: u32) -> NaiveDate {
    // March 2025: the 3rd is a Monday.
    NaiveDate::from_ymd_opt(2025, 3, d).expect("a date")
}

#[test]
fn the_clock_stops_while_the_referrer_is_asked() {
    let calendar = WorkingCalendar::new(true, &[]);
    let whole = waited_working_days(&calendar, day(3), &[], day(17));
    assert_eq!(whole, calendar.working_days_between(day(3), day(17)));
    let answered = Pause {
        asked: day(5),
        answered: Some(day(12)),
    };
    assert_eq!(
        waited_working_days(&calendar, day(3), &[answered], day(17)),
        whole - calendar.working_days_between(day(5), day(12))
    );
    let open = Pause {
        asked: day(10),
        answered: None,
    };
    assert_eq!(
        waited_working_days(&calendar, day(3), &[open], day(17)),
        whole - calendar.working_days_between(day(10), day(17))
    );
}
