//! Counting facts into the periods and groups of a query, one fact at a
//! time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::{BoardCode, days};

use super::row::publish;
use super::{BoardContext, CLOSED_WITH_ADVICE, MetricRules, MetricsQuery, MetricsRow, Split};
use crate::domain::aggregates::{Counter, wait_of};
use crate::domain::fact::{Fact, Route};
use crate::domain::period::{Period, periods};
use crate::domain::re_referrals::{BoardSet, WINDOWS, months_after};
use crate::domain::waits::{Wait, wait};

/// One period of one group, before disclosure control.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    pub(super) received_remote: u64,
    pub(super) received_standard: u64,
    pub(super) waits: Vec<Wait>,
    pub(super) within_target: u64,
    pub(super) info_requested: u64,
    pub(super) outcomes: BTreeMap<String, u64>,
    pub(super) without_specialist: u64,
    pub(super) notification_failed: u64,
    pub(super) withdrawn: u64,
    /// Working days from question to answer, of the answers in the period.
    pub(super) turnaround: Vec<u32>,
    /// (followed for 6 months, re-referred within 6, followed 12, re-referred within 12)
    pub(super) re_referral: [u64; 4],
}

/// The rows for `query` over `facts` (already limited to its boards).
pub fn compute(
    facts: &[Fact],
    boards: &BTreeMap<BoardCode, BoardContext>,
    query: &MetricsQuery,
    rules: &MetricRules,
) -> Vec<MetricsRow> {
    let mut referrals = Referrals::default();
    for fact in facts {
        referrals.add(fact);
    }
    let mut metrics = Metrics::new(boards, query, rules, referrals);
    for fact in facts {
        metrics.add(fact);
    }
    metrics.rows()
}

/// Each patient's referrals by time of receipt, for re-referrals.
#[derive(Debug, Default)]
pub struct Referrals(HashMap<String, Vec<DateTime<Utc>>>);

impl Referrals {
    /// Note `fact`'s receipt under its patient's pseudonym.
    pub fn add(&mut self, fact: &Fact) {
        self.add_receipt(&fact.attributes.patient_pseudonym, fact.received_at);
    }

    /// Note a referral of the patient `pseudonym` received at `received`.
    pub fn add_receipt(&mut self, pseudonym: &str, received: Option<DateTime<Utc>>) {
        if let Some(received) = received
            && !pseudonym.is_empty()
        {
            match self.0.get_mut(pseudonym) {
                Some(times) => times.push(received),
                None => {
                    self.0.insert(pseudonym.to_owned(), vec![received]);
                }
            }
        }
    }
}

/// The rows for a query, worked out one fact at a time, so the facts need
/// not all be in memory at once: [`Metrics::add`] each fact of the boards
/// asked for, then [`Metrics::rows`]. The patients' referrals for
/// re-referrals are given first.
pub struct Metrics<'a> {
    boards: &'a BTreeMap<BoardCode, BoardContext>,
    query: &'a MetricsQuery,
    rules: &'a MetricRules,
    periods: Vec<Period>,
    referrals: Referrals,
    groups: BTreeMap<(Option<BoardCode>, String), Vec<Tally>>,
    default_board: BoardContext,
}

impl<'a> Metrics<'a> {
    /// `referrals` must hold every referral received from the start of
    /// `query` to 12 months after its end (more does no harm).
    pub fn new(
        boards: &'a BTreeMap<BoardCode, BoardContext>,
        query: &'a MetricsQuery,
        rules: &'a MetricRules,
        referrals: Referrals,
    ) -> Self {
        let periods = periods(query.from, query.to, query.by);
        let mut groups = BTreeMap::new();
        if query.split == Some(Split::Adoption) {
            for board in &query.boards {
                for phase in ["before", "after"] {
                    groups.insert(
                        (Some(*board), phase.into()),
                        vec![Tally::default(); periods.len()],
                    );
                }
            }
        } else if query.split.is_none() {
            groups.insert((None, "all".into()), vec![Tally::default(); periods.len()]);
        }
        Self {
            boards,
            query,
            rules,
            periods,
            referrals,
            groups,
            default_board: BoardContext::default(),
        }
    }

    /// Give `fact`'s group its rows without counting the fact: every group
    /// among the boards' facts has rows, zeros where nothing of it falls in
    /// the range, so a fact that cannot count needs only naming.
    pub fn name_group(&mut self, fact: &Fact) {
        let board = self.boards.get(&fact.board).unwrap_or(&self.default_board);
        let key = group_of(fact, board, self.query.split);
        let periods = self.periods.len();
        self.groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods]);
    }

    /// Count `fact` in the periods of its events.
    pub fn add(&mut self, fact: &Fact) {
        let query = self.query;
        let rules = self.rules;
        let periods = &self.periods;
        let board = self.boards.get(&fact.board).unwrap_or(&self.default_board);
        let key = group_of(fact, board, query.split);
        let tallies = self
            .groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods.len()]);
        if let (Some(received), Some(route)) = (fact.received_at, fact.route)
            && let Some(t) = slot(tallies, periods, days::day_of(received))
        {
            match route {
                Route::Remote => t.received_remote += 1,
                Route::Standard => t.received_standard += 1,
            }
        }
        if let (Some(received), Some(vetted)) = (fact.received_at, fact.vetted_at)
            && let Some(t) = slot(tallies, periods, days::day_of(vetted))
        {
            let w = wait(board, received, vetted, &fact.pauses);
            // Judged by the target in force on the day of receipt.
            if w.working_days_excluding_paused() <= board.target_on(days::day_of(received)) {
                t.within_target += 1;
            }
            if !fact.pauses.is_empty() {
                t.info_requested += 1;
            }
            if fact.notification_failures > 0 {
                t.notification_failed += 1;
            }
            let outcome = fact.outcome.clone().unwrap_or_else(|| "unknown".into());
            if rules.without_specialist.contains(&outcome) {
                t.without_specialist += 1;
            }
            // Followed when the patient is known; the referrals after the
            // vetting, if any, are in `referrals`.
            if CLOSED_WITH_ADVICE.contains(&outcome.as_str())
                && !fact.attributes.patient_pseudonym.is_empty()
            {
                let later = self
                    .referrals
                    .0
                    .get(fact.attributes.patient_pseudonym.as_str())
                    .map_or(&[][..], Vec::as_slice);
                for (i, months) in [(0, 6), (2, 12)] {
                    let Some(end) = months_after(vetted, months) else {
                        continue;
                    };
                    if days::day_of(end) > query.as_of {
                        continue;
                    }
                    t.re_referral[i] += 1;
                    if later.iter().any(|r| *r > vetted && *r <= end) {
                        t.re_referral[i + 1] += 1;
                    }
                }
            }
            *t.outcomes.entry(outcome).or_default() += 1;
            t.waits.push(w);
        }
        for pause in &fact.pauses {
            if let Some(answered) = pause.answered_at
                && let Some(t) = slot(tallies, periods, days::day_of(answered))
            {
                t.turnaround.push(board.working_days_between(
                    days::day_of(pause.requested_at),
                    days::day_of(answered),
                ));
            }
        }
        if let Some(withdrawn) = fact.withdrawn_at
            && let Some(t) = slot(tallies, periods, days::day_of(withdrawn))
        {
            t.withdrawn += 1;
        }
    }

    /// Give the group `key` its rows without counting anything in it.
    pub fn name_key(&mut self, key: (Option<BoardCode>, String)) {
        let periods = self.periods.len();
        self.groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods]);
    }

    /// Count `n` of an aggregated `counter` of `day` into the group `key`,
    /// as [`Metrics::add`] would the facts it stands for; re-referrals are
    /// counted by [`Metrics::add_followed`].
    pub fn add_counter(
        &mut self,
        key: (Option<BoardCode>, String),
        day: NaiveDate,
        counter: &Counter,
        n: u64,
    ) {
        let periods = &self.periods;
        let tallies = self
            .groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods.len()]);
        if matches!(counter, Counter::Fact) {
            return;
        }
        let Some(t) = slot(tallies, periods, day) else {
            return;
        };
        let times = usize::try_from(n).unwrap_or(0);
        match counter {
            Counter::Fact => {}
            Counter::ReceivedRemote => t.received_remote += n,
            Counter::ReceivedStandard => t.received_standard += n,
            Counter::Vetted(numbers) => t
                .waits
                .extend(std::iter::repeat_n(wait_of(*numbers), times)),
            Counter::WithinTarget => t.within_target += n,
            Counter::InfoRequested => t.info_requested += n,
            Counter::NotificationFailed => t.notification_failed += n,
            Counter::Outcome(outcome) => {
                if self.rules.without_specialist.contains(outcome) {
                    t.without_specialist += n;
                }
                *t.outcomes.entry(outcome.clone()).or_default() += n;
            }
            Counter::Answered(days) => t.turnaround.extend(std::iter::repeat_n(*days, times)),
            Counter::Withdrawn => t.withdrawn += n,
            // Counted apart, by the days whose windows have ended.
            Counter::Followed { .. } => {}
        }
    }

    /// Count `n` referrals closed with advice on `day`, each followed for
    /// `months` and re-referred within them to `boards`, into the group
    /// `key`, as [`Metrics::add`] would the facts they stand for: the caller
    /// gives only days whose windows had ended by the query's `as_of`
    /// ([`crate::domain::re_referrals::last_followed_day`]).
    pub fn add_followed(
        &mut self,
        key: (Option<BoardCode>, String),
        day: NaiveDate,
        months: u32,
        boards: BoardSet,
        n: u64,
    ) {
        let periods = &self.periods;
        let asked = BoardSet::of(self.query.boards.iter().copied());
        let tallies = self
            .groups
            .entry(key)
            .or_insert_with(|| vec![Tally::default(); periods.len()]);
        let Some(t) = slot(tallies, periods, day) else {
            return;
        };
        let Some(i) = WINDOWS.iter().position(|m| *m == months) else {
            return;
        };
        t.re_referral[2 * i] += n;
        if boards.meets(asked) {
            t.re_referral[2 * i + 1] += n;
        }
    }

    /// The rows, after disclosure control, by period, board and group.
    pub fn rows(self) -> Vec<MetricsRow> {
        let mut rows = Vec::new();
        for ((board, group), tallies) in self.groups {
            for (period, tally) in self.periods.iter().zip(tallies) {
                rows.push(publish(
                    period,
                    board,
                    group.clone(),
                    tally,
                    self.rules.suppression_threshold,
                ));
            }
        }
        rows.sort_by(|a, b| {
            (a.period_first, &a.board, &a.group).cmp(&(b.period_first, &b.board, &b.group))
        });
        rows
    }
}

fn group_of(
    fact: &Fact,
    board: &BoardContext,
    split: Option<Split>,
) -> (Option<BoardCode>, String) {
    let known = |n: u8| {
        if n == 0 {
            "unknown".to_owned()
        } else {
            n.to_string()
        }
    };
    match split {
        None => (None, "all".into()),
        Some(Split::Adoption) => {
            let after = match (board.adopted_on, fact.received_at) {
                (Some(on), Some(received)) => days::day_of(received) >= on,
                _ => false,
            };
            (
                Some(fact.board),
                if after { "after" } else { "before" }.into(),
            )
        }
        Some(Split::UrbanRural) => (None, known(fact.attributes.urban_rural_class)),
        Some(Split::Simd) => (None, known(fact.attributes.simd_quintile)),
        Some(Split::AgeBand) => (None, fact.attributes.age_band.clone()),
        Some(Split::Sex) => (None, fact.attributes.sex.clone()),
        Some(Split::Priority) => (
            None,
            match fact.outcome.as_deref() {
                Some("accept") => fact.priority.clone().unwrap_or_else(|| "none".into()),
                _ => "none".into(),
            },
        ),
    }
}

fn slot<'a>(tallies: &'a mut [Tally], periods: &[Period], day: NaiveDate) -> Option<&'a mut Tally> {
    let index = periods.partition_point(|p| p.first <= day).checked_sub(1)?;
    let period = periods.get(index)?;
    if day > period.last {
        return None;
    }
    tallies.get_mut(index)
}

#[cfg(test)]
#[path = "tests/aggregate.rs"]
mod tests;
