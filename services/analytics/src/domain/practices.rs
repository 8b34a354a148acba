//! Feedback to referrers: for one board and a range of Scottish days, per
//! referring GP practice, the referrals received on the remote pathway and
//! what has become of them — each current outcome, withdrawn before any
//! outcome, still awaiting one — and the share returned to the referrer
//! with advice, beside the board's own totals for comparison.
//!
//! The referrals counted are those received in the range (by the Scottish
//! day of receipt); each is counted once, under what is known of it today,
//! so every row adds up: `received = decided + withdrawn + awaiting` and
//! `decided` is the sum of the outcomes. A referral with no practice code
//! counts under [`UNKNOWN_PRACTICE`], so the practices add up to the board.
//!
//! Disclosure control runs over the whole table at once
//! ([`super::suppression`]): the relations are each row's two sums and each
//! column's board total and its practices, so the board's total minus the
//! practices shown never reveals a hidden cell. A share is hidden with
//! either of its counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pathway_proto::board::OUTCOME_CODES;
use pathway_proto::{BoardCode, days};
use serde::Serialize;

use super::fact::{Fact, Route};
use super::suppression::{CellId, TableSet};

/// The row of the referrals that named no practice.
pub const UNKNOWN_PRACTICE: &str = "unknown";

/// The row of the board's own totals.
pub const BOARD_TOTAL: &str = "all";

/// The outcome whose share is fed back: returned with written advice.
pub const ADVICE: &str = "advice_to_referrer";

/// One practice's counts before disclosure control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeTally {
    pub received: u64,
    /// Withdrawn before any outcome was recorded.
    pub withdrawn: u64,
    /// Neither decided nor withdrawn yet.
    pub awaiting: u64,
    /// In [`OUTCOME_CODES`]' order.
    pub outcomes: [u64; OUTCOME_CODES.len()],
}

impl PracticeTally {
    pub fn decided(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// The row's cells in [`COLUMNS`]' order.
    fn values(&self) -> Vec<u64> {
        let mut v = vec![self.received, self.decided(), self.withdrawn, self.awaiting];
        v.extend(self.outcomes);
        v
    }
}

/// The counts' names: the first four, then `outcomes.<code>`.
const COUNTS: [&str; 4] = ["received", "decided", "withdrawn", "awaiting"];

fn column_names() -> Vec<String> {
    COUNTS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(OUTCOME_CODES.iter().map(|c| format!("outcomes.{c}")))
        .collect()
}

/// The referrals of one board received in a range, per practice.
#[derive(Debug, Clone)]
pub struct Practices {
    board: BoardCode,
    from: NaiveDate,
    to: NaiveDate,
    pub tallies: BTreeMap<String, PracticeTally>,
}

impl Practices {
    pub fn new(board: BoardCode, from: NaiveDate, to: NaiveDate) -> Self {
        Self {
            board,
            from,
            to,
            tallies: BTreeMap::new(),
        }
    }

    /// Count `fact` if it is a remote-pathway referral of the board received
    /// in the range.
    pub fn add(&mut self, fact: &Fact) {
        if fact.board != self.board || fact.route != Some(Route::Remote) {
            return;
        }
        let Some(received) = fact.received_at.map(days::day_of) else {
            return;
        };
        if received < self.from || self.to < received {
            return;
        }
        let practice = if fact.practice_code.is_empty() {
            UNKNOWN_PRACTICE
        } else {
            &fact.practice_code
        };
        let tally = self.tallies.entry(practice.to_owned()).or_default();
        tally.received += 1;
        let outcome = fact
            .outcome
            .as_deref()
            .and_then(|o| OUTCOME_CODES.iter().position(|c| *c == o));
        match outcome {
            Some(i) => tally.outcomes[i] += 1,
            None if fact.withdrawn_at.is_some() => tally.withdrawn += 1,
            None => tally.awaiting += 1,
        }
    }

    /// The board's own totals.
    pub fn board_total(&self) -> PracticeTally {
        let mut total = PracticeTally::default();
        for t in self.tallies.values() {
            total.received += t.received;
            total.withdrawn += t.withdrawn;
            total.awaiting += t.awaiting;
            for (sum, n) in total.outcomes.iter_mut().zip(t.outcomes) {
                *sum += n;
            }
        }
        total
    }
}

/// One practice, or the board's totals, after disclosure control.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PracticeRow {
    /// The GP practice's code; `unknown` for referrals that named none;
    /// `all` for the board's totals.
    pub practice: String,
    /// Referrals received on the remote pathway in the range.
    pub received: Option<u64>,
    /// Of those, referrals with an outcome recorded (the sum of `outcomes`).
    pub decided: Option<u64>,
    /// Withdrawn by the referrer before any outcome was recorded.
    pub withdrawn: Option<u64>,
    /// Neither decided nor withdrawn yet.
    pub awaiting: Option<u64>,
    /// Decided referrals by current outcome code (a correction replaces the
    /// outcome it corrects).
    pub outcomes: BTreeMap<String, Option<u64>>,
    /// `outcomes.advice_to_referrer / decided`, 0 to 1: the share returned
    /// to the referrer with written advice; `null` when nothing is decided.
    pub advice_to_referrer_share: Option<f64>,
    /// Fields hidden by disclosure control (`null` here, `*` in CSV).
    pub suppressed: Vec<String>,
}

/// The practices' rows in code order (`unknown` among them), and the
/// board's totals, suppressed as one set.
pub fn publish(practices: &Practices, threshold: u64) -> (Vec<PracticeRow>, PracticeRow) {
    let names = column_names();
    let mut set = TableSet::new();
    let mut lay = |tally: &PracticeTally| -> Vec<CellId> {
        tally.values().into_iter().map(|v| set.cell(v)).collect()
    };
    let mut grid: Vec<Vec<CellId>> = practices.tallies.values().map(&mut lay).collect();
    let total = practices.board_total();
    grid.push(lay(&total));
    let outcomes = COUNTS.len()..names.len();
    for row in &grid {
        // received = decided + withdrawn + awaiting; decided = Σ outcomes.
        set.relate(&row[0..4]);
        let mut decided = vec![row[1]];
        decided.extend(&row[outcomes.clone()]);
        set.relate(&decided);
    }
    for c in 0..names.len() {
        let column: Vec<CellId> = grid.iter().map(|row| row[c]).collect();
        set.relate(&column);
    }
    set.suppress(threshold);
    let advice = COUNTS.len()
        + OUTCOME_CODES
            .iter()
            .position(|c| *c == ADVICE)
            .expect("advice_to_referrer is an outcome code");
    let row = |practice: &str, cells: &[CellId]| {
        let shown = |i: usize| set.shown(cells[i]);
        let share = match (shown(advice), shown(1)) {
            (Some(n), Some(of)) if of > 0 => Some(n as f64 / of as f64),
            _ => None,
        };
        let mut suppressed: Vec<String> = names
            .iter()
            .zip(cells)
            .filter(|(_, c)| set.is_hidden(**c))
            .map(|(name, _)| name.clone())
            .collect();
        if set.is_hidden(cells[advice]) || set.is_hidden(cells[1]) {
            suppressed.push("advice_to_referrer_share".to_owned());
        }
        PracticeRow {
            practice: practice.to_owned(),
            received: shown(0),
            decided: shown(1),
            withdrawn: shown(2),
            awaiting: shown(3),
            outcomes: OUTCOME_CODES
                .iter()
                .enumerate()
                .map(|(i, code)| ((*code).to_owned(), shown(COUNTS.len() + i)))
                .collect(),
            advice_to_referrer_share: share,
            suppressed,
        }
    };
    let rows = practices
        .tallies
        .keys()
        .zip(&grid)
        .map(|(practice, cells)| row(practice, cells))
        .collect();
    let board = row(BOARD_TOTAL, grid.last().expect("the board's row"));
    (rows, board)
}

#[cfg(test)]
#[path = "tests/practices.rs"]
mod tests;
