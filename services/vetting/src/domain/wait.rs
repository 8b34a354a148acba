//! How long a referral has waited for vetting: working days on the board's
//! calendar from receipt, less the working days the clock was paused while
//! the referrer was asked for information. Days are Scottish days
//! ([`pathway_proto::days`]): a referral received at 00:30 on a summer night
//! was received that day, not the day before.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::days;

use super::calendar::WorkingDays;

/// A question to the referrer: the clock stops on the (Scottish) day it is
/// asked and runs again on the day the answer arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub asked: NaiveDate,
    pub answered: Option<NaiveDate>,
}

impl Pause {
    /// A question asked at `asked` and answered at `answered`, on the
    /// Scottish days those instants fall on.
    pub fn between(asked: DateTime<Utc>, answered: Option<DateTime<Utc>>) -> Self {
        Self {
            asked: days::day_of(asked),
            answered: answered.map(days::day_of),
        }
    }
}

/// Working days from `received` to `today`, less the paused ones.
pub fn waited_working_days(
    calendar: &impl WorkingDays,
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

/// Working days waited at `now` by a referral received at `received_at`:
/// [`waited_working_days`] from the Scottish day of receipt to the Scottish
/// day of `now`.
pub fn waited_at(
    calendar: &impl WorkingDays,
    received_at: DateTime<Utc>,
    pauses: &[Pause],
    now: DateTime<Utc>,
) -> u32 {
    waited_working_days(
        calendar,
        days::day_of(received_at),
        pauses,
        days::day_of(now),
    )
}

#[cfg(test)]
#[path = "tests/wait.rs"]
mod tests;
