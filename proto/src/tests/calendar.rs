//! Unit tests of `calendar.rs`.

use proptest::prelude::*;

use super::*;

fn d(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
}

#[test]
fn bank_holidays_2026_as_published() {
    assert_eq!(
        scottish_bank_holidays(2026),
        [
            d(2026, 1, 1),   // Thursday
            d(2026, 1, 2),   // Friday
            d(2026, 4, 3),   // Good Friday
            d(2026, 5, 4),   // early May
            d(2026, 5, 25),  // spring
            d(2026, 8, 3),   // summer
            d(2026, 11, 30), // St Andrew's Day, a Monday
            d(2026, 12, 25), // Friday
            d(2026, 12, 28), // Boxing Day (Saturday) moves to Monday
        ]
    );
}

#[test]
fn bank_holidays_2027_as_published() {
    assert_eq!(
        scottish_bank_holidays(2027),
        [
            d(2027, 1, 1),   // Friday
            d(2027, 1, 4),   // 2 January (Saturday) moves to Monday
            d(2027, 3, 26),  // Good Friday
            d(2027, 5, 3),   // early May
            d(2027, 5, 31),  // spring
            d(2027, 8, 2),   // summer
            d(2027, 11, 30), // St Andrew's Day, a Tuesday
            d(2027, 12, 27), // Christmas (Saturday) moves to Monday
            d(2027, 12, 28), // Boxing Day (Sunday) moves to Tuesday
        ]
    );
}

#[test]
fn weekend_pairs_move_past_each_other() {
    // 2022: New Year on Saturday, 2 January on Sunday → Monday 3, Tuesday 4;
    // Christmas on Sunday after Boxing Day on Monday → Tuesday 27.
    let y2022 = scottish_bank_holidays(2022);
    assert!(y2022.contains(&d(2022, 1, 3)) && y2022.contains(&d(2022, 1, 4)));
    assert!(y2022.contains(&d(2022, 12, 26)) && y2022.contains(&d(2022, 12, 27)));
    // 2017: New Year on Sunday, 2 January on Monday → Tuesday 3 as well.
    let y2017 = scottish_bank_holidays(2017);
    assert!(y2017.contains(&d(2017, 1, 2)) && y2017.contains(&d(2017, 1, 3)));
    // 2025: St Andrew's Day on Sunday → Monday 1 December.
    assert!(scottish_bank_holidays(2025).contains(&d(2025, 12, 1)));
    // 2024: Good Friday 29 March (Easter 31 March).
    assert!(scottish_bank_holidays(2024).contains(&d(2024, 3, 29)));
}

#[test]
fn weekends_and_holidays_do_not_count() {
    let calendar = WorkingCalendar::new(true, &[d(2026, 6, 15)]);
    assert!(calendar.is_working_day(d(2026, 6, 16)));
    assert!(!calendar.is_working_day(d(2026, 6, 15)), "the board's own");
    assert!(!calendar.is_working_day(d(2026, 6, 13)), "Saturday");
    assert!(!calendar.is_working_day(d(2026, 6, 14)), "Sunday");
    assert!(!calendar.is_working_day(d(2026, 12, 28)));
    let without = WorkingCalendar::new(false, &[]);
    assert!(without.is_working_day(d(2026, 12, 28)));
    assert!(!without.is_working_day(d(2026, 12, 26)));
}

#[test]
fn counting_working_days() {
    let calendar = WorkingCalendar::default();
    // Monday to Tuesday: one.
    assert_eq!(
        calendar.working_days_between(d(2026, 6, 1), d(2026, 6, 2)),
        1
    );
    assert_eq!(
        calendar.working_days_between(d(2026, 6, 2), d(2026, 6, 2)),
        0
    );
    assert_eq!(
        calendar.working_days_between(d(2026, 6, 2), d(2026, 6, 1)),
        0
    );
    // Friday to Monday: one.
    assert_eq!(
        calendar.working_days_between(d(2026, 6, 5), d(2026, 6, 8)),
        1
    );
    // Christmas week 2026: Thu 24 Dec → Thu 31 Dec skips 25, 26, 27, 28.
    assert_eq!(
        calendar.working_days_between(d(2026, 12, 24), d(2026, 12, 31)),
        3
    );
    // A whole year: 261 weekdays in 2026 less 9 bank holidays.
    assert_eq!(
        calendar.working_days_between(d(2025, 12, 31), d(2026, 12, 31)),
        252
    );
    // Ten working days from Wednesday 23 December 2026: 24, 29, 30, 31 December
    // and 5, 6, 7, 8, 11, 12 January (25 and 28 December, 1 and 4 January off).
    assert_eq!(
        calendar.add_working_days(d(2026, 12, 23), 10),
        d(2027, 1, 12)
    );
    assert_eq!(
        calendar.add_working_days(d(2026, 12, 23), 0),
        d(2026, 12, 23)
    );
    // From a Saturday, the first working day is the Monday.
    assert_eq!(calendar.add_working_days(d(2026, 6, 6), 1), d(2026, 6, 8));
}

#[test]
fn years_outside_the_precomputed_span_are_worked_out() {
    let calendar = WorkingCalendar::new(true, &[d(2200, 6, 2)]);
    let holidays = scottish_bank_holidays(2200);
    assert_eq!(holidays.len(), 9);
    for day in holidays {
        assert!(!calendar.is_working_day(day), "{day}");
    }
    assert!(!calendar.is_working_day(d(2200, 6, 2)));
    let from = d(2199, 12, 20);
    let to = d(2200, 7, 1);
    let slow = from
        .iter_days()
        .skip(1)
        .take_while(|day| *day <= to)
        .filter(|day| calendar.is_working_day(*day))
        .count();
    assert_eq!(calendar.working_days_between(from, to) as usize, slow);
}

fn any_day() -> impl Strategy<Value = NaiveDate> {
    // 1980 to 2160: across both edges of the precomputed years.
    (0i64..66_000).prop_map(|offset| {
        d(1980, 1, 1)
            .checked_add_days(Days::new(offset as u64))
            .expect("in range")
    })
}

fn any_calendar() -> impl Strategy<Value = WorkingCalendar> {
    (any::<bool>(), proptest::collection::vec(any_day(), 0..20))
        .prop_map(|(bank, extra)| WorkingCalendar::new(bank, &extra))
}

proptest! {
    #[test]
    fn adding_then_counting_gives_back_n(calendar in any_calendar(), day in any_day(), n in 0u32..400) {
        let later = calendar.add_working_days(day, n);
        prop_assert_eq!(calendar.working_days_between(day, later), n);
        if n > 0 {
            prop_assert!(calendar.is_working_day(later));
        }
    }

    #[test]
    fn counting_agrees_with_walking_day_by_day(calendar in any_calendar(), from in any_day(), span in 0u64..120) {
        let to = from.checked_add_days(Days::new(span)).expect("in range");
        let walked = from
            .iter_days()
            .skip(1)
            .take_while(|day| *day <= to)
            .filter(|day| calendar.is_working_day(*day))
            .count();
        prop_assert_eq!(calendar.working_days_between(from, to) as usize, walked);
    }

    #[test]
    fn every_year_has_nine_weekday_bank_holidays(year in 1583i32..3000) {
        let holidays = scottish_bank_holidays(year);
        prop_assert_eq!(holidays.len(), 9);
        prop_assert!(holidays.iter().all(|d| is_weekday(*d)));
        prop_assert!(holidays.windows(2).all(|w| w[0] < w[1]));
    }
}
