//! Scottish days. Instants are UTC on the wire and in storage; which *day*
//! something happened on (a referral's receipt day, the days a wait counts,
//! a target date, a board's switch-on day, an analytics period) and every
//! date or time a person sees is Scotland's: Europe/London, GMT in winter
//! and BST (UTC+1) from the last Sunday of March to the last Sunday of
//! October. A referral received at 00:30 on a summer night is received that
//! day, not the day before, as Public Health Scotland counts it.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Scotland's time zone.
pub const SCOTLAND: Tz = chrono_tz::Europe::London;

/// The Scottish day `at` falls on.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&SCOTLAND).date_naive()
}

/// Today in Scotland.
pub fn today() -> NaiveDate {
    day_of(Utc::now())
}

/// `at` on Scotland's clock, for showing to a person.
pub fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&SCOTLAND)
}

/// The instant the Scottish day `day` begins (midnight on Scotland's clock).
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    // Scotland's clocks change at 01:00 and 02:00, never at midnight; should
    // a midnight be skipped or repeated all the same, take the earliest.
    match SCOTLAND.from_local_datetime(&midnight).earliest() {
        Some(start) => start.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&midnight),
    }
}

/// The instant the Scottish day `day` ends (the next one begins).
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, start_of)
}

#[cfg(test)]
#[path = "tests/days.rs"]
mod tests;
