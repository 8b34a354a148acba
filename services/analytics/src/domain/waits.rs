//! The clock from receipt to vetting, following Public Health Scotland's
//! conventions: it starts on the day the referral is received, stops on the
//! day the clinician records the outcome, and pauses while the service waits
//! on information from the referrer (from the day of the question to the day
//! of the answer, or to the day of vetting when the clinician went ahead
//! without one).
//!
//! Days are Scottish days (Europe/London, [`days::day_of`]): a referral
//! received at 00:30 on a summer night is received that day. A wait in working days counts the board's working
//! days, each by the calendar in force on that day, after the day of receipt up to and including the day of vetting (a
//! referral received on Monday and vetted on Tuesday waited one working
//! day); in calendar days, the days between the two dates. Paused time is
//! counted the same way over each pause, overlapping pauses merged, and
//! taken off to give the wait without paused time.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::days;

use super::fact::Pause;
use super::metrics::BoardContext;

/// One referral's wait to vetting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub working_days: u32,
    pub calendar_days: u32,
    pub working_days_paused: u32,
    pub calendar_days_paused: u32,
}

impl Wait {
    pub fn working_days_excluding_paused(&self) -> u32 {
        self.working_days.saturating_sub(self.working_days_paused)
    }

    pub fn calendar_days_excluding_paused(&self) -> u32 {
        self.calendar_days.saturating_sub(self.calendar_days_paused)
    }
}

/// The wait of a referral received at `received` and vetted at `vetted`.
///
/// Each day of it counts by `board`'s calendar in force on that day.
pub fn wait(
    board: &BoardContext,
    received: DateTime<Utc>,
    vetted: DateTime<Utc>,
    pauses: &[Pause],
) -> Wait {
    let start = days::day_of(received);
    let end = days::day_of(vetted).max(start);
    let mut spans: Vec<(NaiveDate, NaiveDate)> = pauses
        .iter()
        .map(|p| {
            let from = days::day_of(p.requested_at).clamp(start, end);
            let to = p.answered_at.map_or(end, days::day_of).clamp(from, end);
            (from, to)
        })
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let (working_days_paused, calendar_days_paused) =
        merged.iter().fold((0u32, 0u32), |(w, c), (from, to)| {
            (
                w.saturating_add(board.working_days_between(*from, *to)),
                c.saturating_add(days_between(*from, *to)),
            )
        });
    Wait {
        working_days: board.working_days_between(start, end),
        calendar_days: days_between(start, end),
        working_days_paused,
        calendar_days_paused,
    }
}

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

/// The `q`th quantile (0..=1) of `sorted` values, interpolating linearly
/// between the two nearest ranks: the definition of a spreadsheet's
/// `PERCENTILE.INC` and `MEDIAN`, R's default (type 7) and NumPy's, so an
/// evaluator can reproduce it from the CSV of facts. `None` for no values.
pub fn quantile(sorted: &[u32], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q.clamp(0.0, 1.0) * last as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let low = f64::from(*sorted.get(below)?);
    let high = f64::from(*sorted.get(above)?);
    Some(low + (high - low) * (rank - below as f64))
}

#[cfg(test)]
#[path = "tests/waits.rs"]
mod tests;
