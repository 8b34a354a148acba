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

/// What counts working days between two Scottish days: one calendar, or a
/// board's history of them (`board::history::SettingsHistory`).
pub trait WorkingDays {
    /// Working days after `from`, up to and including `to`; 0 when `to` is
    /// not after `from`.
    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32;
}

impl WorkingDays for WorkingCalendar {
    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        WorkingCalendar::working_days_between(self, from, to)
    }
}

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
#[path = "tests/calendar.rs"]
mod tests;
