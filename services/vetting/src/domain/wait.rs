//! How long a referral has waited for vetting: working days on the board's
//! calendar from receipt, less the working days the clock was paused while
//! the referrer was asked for information.

use chrono::NaiveDate;

use super::calendar::WorkingCalendar;

/// A question to the referrer: the clock stops on the day it is asked and
/// runs again on the day the answer arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub asked: NaiveDate,
    pub answered: Option<NaiveDate>,
}

/// Working days from `received` to `today`, less the paused ones.
pub fn waited_working_days(
    calendar: &WorkingCalendar,
    received: NaiveDate,
    pauses: &[Pause],
    today: NaiveDate,
) -> u32 {
    let total = calendar.working_days_between(received, today);
    let paused: u32 = pauses
        .iter()
        .map(|p| calendar.working_days_between(p.asked, p.answered.unwrap_or(today)))
        .sum();
    total.saturating_sub(paused)
}

#[cfg(test)]
#[path = "tests/wait.rs"]
mod tests;
