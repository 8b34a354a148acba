//! Unit tests of `wait.rs`.

use super::*;
use crate::domain::calendar::WorkingCalendar;

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

/// An instant written in UTC, as it is stored.
fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

// 00:30 on Scotland's clock on both sides of each clock change (forward on
// Sunday 29 March 2026 at 01:00 GMT, back on Sunday 25 October 2026 at 02:00
// BST) and around the new year.
const SUN_29_MAR_0030_GMT: &str = "2026-03-29T00:30:00Z";
const MON_30_MAR_0030_BST: &str = "2026-03-29T23:30:00Z";
const FRI_23_OCT_0030_BST: &str = "2026-10-22T23:30:00Z";
const SUN_25_OCT_0030_BST: &str = "2026-10-24T23:30:00Z";
const MON_26_OCT_0030_GMT: &str = "2026-10-26T00:30:00Z";

#[test]
fn a_wait_counts_scottish_days_on_both_sides_of_each_clock_change() {
    let calendar = WorkingCalendar::new(true, &[]);
    // (received at, now, working days waited)
    let cases = [
        // Received on Monday 30 March just after midnight in summer time:
        // Tuesday afternoon is one working day later, not two.
        (MON_30_MAR_0030_BST, "2026-03-31T12:00:00Z", 1),
        // Received on Sunday in winter time; Monday 00:30 in summer time is
        // already Monday, one working day on.
        (SUN_29_MAR_0030_GMT, MON_30_MAR_0030_BST, 1),
        // Received on Friday 23 October (summer time): Monday is one working
        // day on, the Friday itself does not count.
        (FRI_23_OCT_0030_BST, MON_26_OCT_0030_GMT, 1),
        (SUN_25_OCT_0030_BST, MON_26_OCT_0030_GMT, 1),
        (FRI_23_OCT_0030_BST, SUN_25_OCT_0030_BST, 0),
        // Across the new year: 1 January 2027 is a Friday and 2 January a
        // Saturday, so Monday 4 January is its substitute holiday.
        ("2026-12-31T23:30:00Z", "2027-01-04T00:30:00Z", 0),
        ("2026-12-31T23:30:00Z", "2027-01-05T00:30:00Z", 1),
        // An hour across midnight in winter is a working day on.
        ("2027-01-04T23:30:00Z", "2027-01-05T00:30:00Z", 1),
    ];
    for (received, now, expected) in cases {
        assert_eq!(
            waited_at(&calendar, utc(received), &[], utc(now)),
            expected,
            "received {received}, now {now}"
        );
    }
}

#[test]
fn a_pause_starts_and_ends_on_scottish_days() {
    assert_eq!(
        Pause::between(utc(MON_30_MAR_0030_BST), Some(utc(FRI_23_OCT_0030_BST))),
        Pause {
            asked: ymd(2026, 3, 30),
            answered: Some(ymd(2026, 10, 23)),
        }
    );
    assert_eq!(
        Pause::between(utc(SUN_29_MAR_0030_GMT), Some(utc(MON_26_OCT_0030_GMT))),
        Pause {
            asked: ymd(2026, 3, 29),
            answered: Some(ymd(2026, 10, 26)),
        }
    );
    assert_eq!(
        Pause::between(utc(SUN_25_OCT_0030_BST), None),
        Pause {
            asked: ymd(2026, 10, 25),
            answered: None,
        }
    );
    // Asked on Friday 23 October after midnight in summer time, answered on
    // Monday 26 October: the clock stopped for Monday only, so a referral
    // received on Thursday 22 October has waited two working days (Friday
    // and Tuesday) by Tuesday 27 October.
    let calendar = WorkingCalendar::new(true, &[]);
    let pause = Pause::between(utc(FRI_23_OCT_0030_BST), Some(utc(MON_26_OCT_0030_GMT)));
    assert_eq!(
        waited_at(
            &calendar,
            utc("2026-10-22T09:00:00Z"),
            &[pause],
            utc("2026-10-27T09:00:00Z"),
        ),
        2
    );
    // Across the new year, a question asked on 31 December and answered on
    // Tuesday 5 January stops the clock for Tuesday alone.
    let pause = Pause::between(
        utc("2026-12-31T23:30:00Z"),
        Some(utc("2027-01-05T00:30:00Z")),
    );
    assert_eq!(
        pause,
        Pause {
            asked: ymd(2026, 12, 31),
            answered: Some(ymd(2027, 1, 5)),
        }
    );
}

#[test]
fn a_wait_across_a_settings_change_counts_each_day_by_the_calendar_then_in_force() {
    use pathway_proto::board::history::{SettingsHistory, SettingsVersion};
    let closed = |d: NaiveDate| SettingsVersion {
        calendar: WorkingCalendar::new(true, &[d]),
        vetting_target_working_days: 10,
    };
    // June 2026: closed Wed 10 until Thu 11, when a change closes Fri 12
    // instead; received Mon 8, asked on Tue 16, nothing paused before.
    let history = SettingsHistory::constant(closed(ymd(2026, 6, 10)))
        .with_change_from(ymd(2026, 6, 11), closed(ymd(2026, 6, 12)));
    let waited = waited_working_days(&history, ymd(2026, 6, 8), &[], ymd(2026, 6, 16));
    // Tue 9, Thu 11, Mon 15, Tue 16: neither closed day counts.
    assert_eq!(waited, 4);
    // The old calendar alone would have counted Fri 12.
    let old_only = waited_working_days(
        &WorkingCalendar::new(true, &[ymd(2026, 6, 10)]),
        ymd(2026, 6, 8),
        &[],
        ymd(2026, 6, 16),
    );
    assert_eq!(old_only, 5);
}
