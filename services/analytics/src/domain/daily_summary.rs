//! A board's counts for one Scottish day, for its service manager
//! (`notification.daily_summary` in the board's settings): what happened
//! that day, and what was waiting when it ended. Counts only, and not
//! suppressed: they go to the board's own manager as management
//! information, not to evaluators or the public
//! (docs/decisions/0034-daily-summary.md).
//!
//! A day is Scotland's (Europe/London): a referral received at 00:30 on a
//! summer night counts on that day, not the one before. "Waiting at the
//! end of the day" is the state each referral's milestones give at the
//! instant the next Scottish day begins.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use pathway_proto::days;
use pathway_proto::v1 as proto;

use super::fact::{Fact, Route};
use super::metrics::BoardContext;
use super::waits;

/// The outcome code of a referral waiting for the patient to opt in.
const PATIENT_OPT_IN: &str = "patient_opt_in";

/// One board's counts for one Scottish day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyCounts {
    pub day: NaiveDate,
    /// Received onto the pathway that day.
    pub received: u32,
    /// Received that day and handed to the standard route instead.
    pub routed_standard: u32,
    /// First vetted that day.
    pub vetted: u32,
    /// First decided that day, by the outcome they have now.
    pub decided: BTreeMap<String, u32>,
    /// Withdrawn that day.
    pub withdrawn: u32,
    /// Waiting for vetting when the day ended (claimed or not), and of
    /// those, past the board's vetting target.
    pub awaiting_vetting: u32,
    pub over_vetting_target: u32,
    /// Waiting for the referrer's answer when the day ended.
    pub awaiting_information: u32,
    /// Waiting for the patient to opt in when the day ended.
    pub awaiting_opt_in: u32,
}

/// The day whose summary is due at `now`, for a board that sends it at
/// `hour` (Scotland's clock): yesterday, once today's clock has reached the
/// hour; nothing before it.
pub fn due_day(now: DateTime<Utc>, hour: u8) -> Option<NaiveDate> {
    let local = days::local(now);
    if local.hour() < u32::from(hour) {
        return None;
    }
    local.date_naive().pred_opt()
}

/// Count `facts` (one board's; demo facts and baseline facts left out by the
/// caller or here) for `day`, waits judged by `board`'s calendar and target.
pub fn count(facts: &[Fact], day: NaiveDate, board: &BoardContext) -> DailyCounts {
    let start = days::start_of(day);
    let end = days::end_of(day);
    let on_day = |at: Option<DateTime<Utc>>| at.is_some_and(|at| start <= at && at < end);
    let by_end = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at < end);
    let mut out = DailyCounts {
        day,
        ..DailyCounts::default()
    };
    for fact in facts.iter().filter(|f| !f.demo) {
        if on_day(fact.received_at) {
            match fact.route {
                Some(Route::Remote) => out.received += 1,
                Some(Route::Standard) => out.routed_standard += 1,
                None => {}
            }
        }
        if on_day(fact.vetted_at) {
            out.vetted += 1;
        }
        if on_day(fact.decided_at)
            && let Some(outcome) = &fact.outcome
        {
            *out.decided.entry(outcome.clone()).or_default() += 1;
        }
        if on_day(fact.withdrawn_at) {
            out.withdrawn += 1;
        }
        let Some(received) = fact.received_at.filter(|at| *at < end) else {
            continue;
        };
        if fact.route != Some(Route::Remote) || by_end(fact.withdrawn_at) || by_end(fact.closed_at)
        {
            continue;
        }
        if by_end(fact.decided_at) {
            if fact.outcome.as_deref() == Some(PATIENT_OPT_IN) {
                out.awaiting_opt_in += 1;
            }
            continue;
        }
        if by_end(fact.vetted_at) {
            // Vetted, the decision not yet recorded: waiting on nobody.
            continue;
        }
        let asked = fact
            .pauses
            .iter()
            .any(|p| p.requested_at < end && p.answered_at.is_none_or(|answered| answered >= end));
        if asked {
            out.awaiting_information += 1;
            continue;
        }
        out.awaiting_vetting += 1;
        // Judged as a wait that ended with the day, by the target in force
        // on the day of receipt, without the days paused for an answer.
        let last_instant = end - chrono::Duration::nanoseconds(1);
        let wait = waits::wait(board, received, last_instant, &fact.pauses);
        if wait.working_days_excluding_paused() > board.target_on(days::day_of(received)) {
            out.over_vetting_target += 1;
        }
    }
    out
}

impl DailyCounts {
    /// The payload of `analytics.daily_summary`.
    pub fn to_proto(&self) -> proto::AnalyticsDailySummary {
        proto::AnalyticsDailySummary {
            day: self.day.format("%Y-%m-%d").to_string(),
            received: self.received,
            routed_standard: self.routed_standard,
            vetted: self.vetted,
            decided: self
                .decided
                .iter()
                .map(|(outcome, count)| proto::OutcomeCount {
                    outcome: outcome.clone(),
                    count: *count,
                })
                .collect(),
            withdrawn: self.withdrawn,
            awaiting_vetting: self.awaiting_vetting,
            over_vetting_target: self.over_vetting_target,
            awaiting_information: self.awaiting_information,
            awaiting_opt_in: self.awaiting_opt_in,
        }
    }
}

#[cfg(test)]
#[path = "tests/daily_summary.rs"]
mod tests;
