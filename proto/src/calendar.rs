//! A board's working calendar: which days count towards the vetting target
//! and the waits vetting and analytics report.
//!
//! Weekends never count. A board counts Scotland's bank holidays (unless it
//! switches them off) and its own extra non-working days. The calendar is
//! asked about every row of a worklist, so each question is answered without
//! walking day by day: weekdays are counted by arithmetic, and the holidays
//! falling on weekdays are kept in one sorted list and counted by binary
//! search. Scotland's bank holidays are worked out once per process for
//! [`FIRST_PRECOMPUTED_YEAR`]..=[`LAST_PRECOMPUTED_YEAR`]; a year outside that
//! span is worked out when asked.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The first year whose bank holidays are worked out ahead of time.
pub const FIRST_PRECOMPUTED_YEAR: i32 = 1990;
/// The last year whose bank holidays are worked out ahead of time.
pub const LAST_PRECOMPUTED_YEAR: i32 = 2150;

/// Which days count as working days for one board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    scottish_bank_holidays: bool,
    /// Every non-working weekday within the precomputed years, sorted, no
    /// duplicates: the bank holidays (when counted) and the board's own.
    holidays: Vec<NaiveDate>,
    /// The board's own non-working weekdays outside the precomputed years.
    extra_outside: BTreeSet<NaiveDate>,
}

impl Default for WorkingCalendar {
    /// Scotland's bank holidays and nothing else.
    fn default() -> Self {
        Self::new(true, &[])
    }
}

impl WorkingCalendar {
    /// A calendar that skips weekends, Scotland's bank holidays when
    /// `scottish_bank_holidays`, and `extra_holidays` (the board's own).
    pub fn new(scottish_bank_holidays: bool, extra_holidays: &[NaiveDate]) -> Self {
        let mut holidays: Vec<NaiveDate> = if scottish_bank_holidays {
            precomputed().to_vec()
        } else {
            Vec::new()
        };
        let mut extra_outside = BTreeSet::new();
        for day in extra_holidays.iter().copied().filter(|d| is_weekday(*d)) {
            if in_precomputed_years(day.year()) {
                holidays.push(day);
            } else {
                extra_outside.insert(day);
            }
        }
        holidays.sort_unstable();
        holidays.dedup();
        Self {
            scottish_bank_holidays,
            holidays,
            extra_outside,
        }
    }

    /// Whether `day` counts: a weekday that is not a holiday of this board.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        is_weekday(day) && !self.is_holiday(day)
    }

    /// Working days after `from`, up to and including `to`; 0 when `to` is
    /// not after `from`. A referral received on Monday and vetted on
    /// Tuesday took one working day.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        if to <= from {
            return 0;
        }
        let count = weekdays_between(from, to).saturating_sub(self.holidays_between(from, to));
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The day on which `n` working days after `from` have passed: the
    /// `n`th working day after `from`, or `from` itself when `n` is 0.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut remaining = u64::from(n);
        // Jump over whole stretches of weekdays, then make up for the
        // holidays jumped over; each round's stretch holds fewer holidays.
        while remaining > 0 {
            let Some(next) = add_weekdays(day, remaining) else {
                return NaiveDate::MAX;
            };
            remaining = self.holidays_between(day, next);
            day = next;
        }
        day
    }

    fn is_holiday(&self, day: NaiveDate) -> bool {
        if in_precomputed_years(day.year()) {
            self.holidays.binary_search(&day).is_ok()
        } else {
            self.extra_outside.contains(&day)
                || (self.scottish_bank_holidays
                    && scottish_bank_holidays(day.year()).contains(&day))
        }
    }

    /// Holidays on weekdays after `from`, up to and including `to`.
    fn holidays_between(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        if to <= from {
            return 0;
        }
        let inside = self.holidays.partition_point(|d| *d <= to)
            - self.holidays.partition_point(|d| *d <= from);
        let mut count = inside as u64;
        count += self
            .extra_outside
            .range(from.succ_opt().unwrap_or(from)..=to)
            .count() as u64;
        if self.scottish_bank_holidays {
            for year in from.year()..=to.year() {
                if in_precomputed_years(year) {
                    continue;
                }
                count += scottish_bank_holidays(year)
                    .into_iter()
                    .filter(|d| *d > from && *d <= to && !self.extra_outside.contains(d))
                    .count() as u64;
            }
        }
        count
    }
}

/// Scotland's bank holidays in `year`, in date order, with the substitute
/// weekdays that apply when a holiday falls at a weekend: New Year's Day,
/// 2 January, Good Friday, the early May, spring and summer bank holidays,
/// St Andrew's Day, Christmas Day and Boxing Day. Good Friday is left out
/// before 1583, when the Gregorian date of Easter is not defined.
pub fn scottish_bank_holidays(year: i32) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(9);
    out.extend(
        with_substitutes(&[ymd(year, 1, 1), ymd(year, 1, 2)])
            .into_iter()
            .flatten(),
    );
    if let Some(easter) = easter_sunday(year) {
        out.extend(easter.checked_sub_days(Days::new(2)));
    }
    out.extend(nth_weekday(year, 5, Weekday::Mon, 1));
    out.extend(last_weekday(year, 5, Weekday::Mon));
    out.extend(nth_weekday(year, 8, Weekday::Mon, 1));
    out.extend(with_substitutes(&[ymd(year, 11, 30)]).into_iter().flatten());
    out.extend(
        with_substitutes(&[ymd(year, 12, 25), ymd(year, 12, 26)])
            .into_iter()
            .flatten(),
    );
    out.sort_unstable();
    out
}

/// Gregorian Easter Sunday, from the `computus` crate's Anonymous Gregorian
/// algorithm (defined for 1583 to 9999).
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let date = computus::gregorian(year).ok()?;
    NaiveDate::from_ymd_opt(date.year, date.month, date.day)
}

/// Consecutive fixed holidays with the UK's substitution rule: one that
/// falls at a weekend moves to the first following weekday that is not
/// already one of them (Christmas on Saturday → Monday 27th, Boxing Day on
/// Sunday → Tuesday 28th; Christmas on Sunday → Tuesday 27th after Boxing Day
/// on Monday).
fn with_substitutes(days: &[Option<NaiveDate>]) -> Vec<Option<NaiveDate>> {
    let mut taken: Vec<NaiveDate> = days
        .iter()
        .flatten()
        .copied()
        .filter(|d| is_weekday(*d))
        .collect();
    days.iter()
        .map(|day| {
            let day = (*day)?;
            if is_weekday(day) {
                return Some(day);
            }
            let mut substitute = day.succ_opt()?;
            while !is_weekday(substitute) || taken.contains(&substitute) {
                substitute = substitute.succ_opt()?;
            }
            taken.push(substitute);
            Some(substitute)
        })
        .collect()
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let next_month = if month == 12 {
        ymd(year + 1, 1, 1)
    } else {
        ymd(year, month + 1, 1)
    }?;
    let mut day = next_month.pred_opt()?;
    while day.weekday() != weekday {
        day = day.pred_opt()?;
    }
    Some(day)
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn in_precomputed_years(year: i32) -> bool {
    (FIRST_PRECOMPUTED_YEAR..=LAST_PRECOMPUTED_YEAR).contains(&year)
}

/// Every Scottish bank holiday of the precomputed years, sorted.
fn precomputed() -> &'static [NaiveDate] {
    static HOLIDAYS: OnceLock<Vec<NaiveDate>> = OnceLock::new();
    HOLIDAYS.get_or_init(|| {
        (FIRST_PRECOMPUTED_YEAR..=LAST_PRECOMPUTED_YEAR)
            .flat_map(scottish_bank_holidays)
            .collect()
    })
}

/// Weekdays from a fixed Monday up to and including `day` (negative before it).
fn weekday_index(day: NaiveDate) -> i64 {
    // 1 January 2001 was a Monday.
    let monday = NaiveDate::from_ymd_opt(2001, 1, 1).unwrap_or(NaiveDate::MIN);
    let days = day.signed_duration_since(monday).num_days();
    let weeks = days.div_euclid(7);
    let into_week = days.rem_euclid(7);
    5 * weeks + (into_week + 1).min(5)
}

/// Weekdays after `from`, up to and including `to`.
fn weekdays_between(from: NaiveDate, to: NaiveDate) -> u64 {
    u64::try_from(weekday_index(to) - weekday_index(from)).unwrap_or(0)
}

/// The `n`th weekday after `from` (`from` itself when `n` is 0).
fn add_weekdays(from: NaiveDate, n: u64) -> Option<NaiveDate> {
    if n == 0 {
        return Some(from);
    }
    // From a weekend, count as from the Friday before: the same weekdays follow.
    let start = match from.weekday() {
        Weekday::Sat => from.pred_opt()?,
        Weekday::Sun => from.checked_sub_days(Days::new(2))?,
        _ => from,
    };
    let weeks = n / 5;
    let rest = n % 5;
    let into_week = u64::from(start.weekday().num_days_from_monday());
    let extra = if into_week + rest >= 5 {
        rest + 2
    } else {
        rest
    };
    start.checked_add_days(Days::new(weeks.checked_mul(7)?.checked_add(extra)?))
}

#[cfg(test)]
mod tests {
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
}
