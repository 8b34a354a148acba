//! The calendar worked out by hand: Scotland's 2024–2026 bank holidays and the
//! board's own day written out, working days walked one by one, and
//! centiles from the spreadsheet definition (PERCENTILE.INC).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

use super::{LOCAL_HOLIDAY, day};

/// Scotland's bank holidays in 2024, 2025 and 2026, from the published
/// lists, and the board's own day.
fn non_working_weekdays() -> BTreeSet<NaiveDate> {
    [
        day(1, 1),
        day(1, 2),
        day(4, 3),   // Good Friday
        day(5, 4),   // early May
        day(5, 25),  // spring
        day(8, 3),   // summer
        day(11, 30), // St Andrew's Day
        day(12, 25),
        day(12, 28), // Boxing Day, substitute for Saturday 26th
        day(LOCAL_HOLIDAY.0, LOCAL_HOLIDAY.1),
        // St Andrew's Day 2025 fell on a Sunday, so Monday 1 December;
        // Christmas and Boxing Day on Thursday and Friday.
        ymd(2025, 1, 1),
        ymd(2025, 1, 2),
        ymd(2025, 4, 18), // Good Friday
        ymd(2025, 5, 5),
        ymd(2025, 5, 26),
        ymd(2025, 8, 4),
        ymd(2025, 12, 1),
        ymd(2025, 12, 25),
        ymd(2025, 12, 26),
        // St Andrew's Day 2024 fell on a Saturday, so Monday 2 December.
        ymd(2024, 1, 1),
        ymd(2024, 1, 2),
        ymd(2024, 3, 29), // Good Friday
        ymd(2024, 5, 6),
        ymd(2024, 5, 27),
        ymd(2024, 8, 5),
        ymd(2024, 12, 2),
        ymd(2024, 12, 25),
        ymd(2024, 12, 26),
    ]
    .into_iter()
    .collect()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Working days after `from` up to and including `to`, walked day by day.
pub(crate) fn working_days(from: NaiveDate, to: NaiveDate) -> u32 {
    let holidays = non_working_weekdays();
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.succ_opt().expect("a next day");
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d) {
            n += 1;
        }
    }
    n
}

pub(crate) fn calendar_days(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).expect("to is not before from")
}

/// PERCENTILE.INC of `values`.
pub(crate) fn percentile(values: &[u32], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let next = v.get(lo + 1).copied().unwrap_or(v[lo]);
    f64::from(v[lo]) + frac * (f64::from(next) - f64::from(v[lo]))
}
