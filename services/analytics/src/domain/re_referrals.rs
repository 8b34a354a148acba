//! Re-referrals, kept with each referral closed with advice so a query sums
//! them instead of reading every patient's referrals.
//!
//! A referral closed with advice is *followed* for 6 (or 12) months once
//! the Scottish day of its vetting plus that many months has passed, and
//! is *re-referred* when the same patient was referred again, to one of
//! the boards a query asks about, after the vetting and by the end of the
//! window. Which boards is the query's choice, so each such referral keeps
//! the set of boards its patient was referred to within each window
//! ([`BoardSet`]); a query counts it re-referred when that set meets its
//! own boards. The sets are worked out again whenever one of the patient's
//! referrals changes ([`followed`]).

use chrono::{DateTime, Months, NaiveDate, Utc};
use pathway_proto::{BoardCode, days};

use super::fact::Fact;
use super::metrics::CLOSED_WITH_ADVICE;

/// The windows a referral closed with advice is followed for, in months.
pub const WINDOWS: [u32; 2] = [6, 12];

/// A set of the 14 boards, as bits by [`BoardCode::index`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoardSet(u16);

impl BoardSet {
    pub const EMPTY: Self = Self(0);

    /// The set of `boards`.
    pub fn of(boards: impl IntoIterator<Item = BoardCode>) -> Self {
        boards
            .into_iter()
            .fold(Self::EMPTY, |set, board| set.with(board))
    }

    /// This set and `board`.
    pub fn with(self, board: BoardCode) -> Self {
        Self(self.0 | (1 << board.index()))
    }

    /// Some board is in both sets.
    pub fn meets(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits as stored.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// The set the stored bits stand for; `None` for bits of no board.
    pub fn from_bits(bits: u16) -> Option<Self> {
        (bits >> pathway_proto::board::BOARD_CODES.len() == 0).then_some(Self(bits))
    }
}

/// The boards a referral closed with advice saw its patient referred to,
/// within each of [`WINDOWS`] after its vetting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReReferred(pub [BoardSet; 2]);

/// What the re-referrals of a patient's referrals depend on, of one of
/// them (patient, board, receipt, vetting, outcome): when it changes, the
/// patient's are worked out again.
pub type Bearing = (
    String,
    BoardCode,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// `fact`'s [`Bearing`].
pub fn bearing(fact: &Fact) -> Bearing {
    (
        fact.attributes.patient_pseudonym.clone(),
        fact.board,
        fact.received_at,
        fact.vetted_at,
        fact.outcome.clone(),
    )
}

/// `fact` is followed for re-referrals: closed with advice, of a known
/// patient, received and vetted.
pub fn is_followed(fact: &Fact) -> bool {
    fact.received_at.is_some()
        && fact.vetted_at.is_some()
        && !fact.attributes.patient_pseudonym.is_empty()
        && fact
            .outcome
            .as_deref()
            .is_some_and(|o| CLOSED_WITH_ADVICE.contains(&o))
}

/// `months` calendar months after `at` on Scotland's clock (as UTC when
/// that time of day does not exist or comes twice on the day it lands on).
pub fn months_after(at: DateTime<Utc>, months: u32) -> Option<DateTime<Utc>> {
    let months = Months::new(months);
    days::local(at)
        .checked_add_months(months)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| at.checked_add_months(months))
}

/// The Scottish day a window of `months` after a vetting on `vetted`
/// (a Scottish day) ends: the same day of the month (or the month's last)
/// `months` later. [`months_after`] of any instant of `vetted` falls on it.
pub fn window_end(vetted: NaiveDate, months: u32) -> Option<NaiveDate> {
    vetted.checked_add_months(Months::new(months))
}

/// The last Scottish day a referral may have been vetted on to be followed
/// for `months` by `as_of`: its window has ended by then.
pub fn last_followed_day(as_of: NaiveDate, months: u32) -> Option<NaiveDate> {
    // Months end on different days: from the day as many months back, step
    // on while the next day's window still ends by `as_of` (at most three).
    let mut last = as_of.checked_sub_months(Months::new(months))?;
    while let Some(next) = last.succ_opt()
        && window_end(next, months).is_some_and(|end| end <= as_of)
    {
        last = next;
    }
    Some(last)
}

/// The boards one patient's referrals, `receipts` (board and time of
/// receipt), were made to within each window after `fact`'s vetting, if
/// `fact` is followed ([`is_followed`]); else nothing.
pub fn followed(fact: &Fact, receipts: &[(BoardCode, DateTime<Utc>)]) -> ReReferred {
    let Some(vetted) = fact.vetted_at.filter(|_| is_followed(fact)) else {
        return ReReferred::default();
    };
    let mut sets = [BoardSet::EMPTY; 2];
    for (set, months) in sets.iter_mut().zip(WINDOWS) {
        let Some(end) = months_after(vetted, months) else {
            continue;
        };
        *set = BoardSet::of(
            receipts
                .iter()
                .filter(|(_, received)| *received > vetted && *received <= end)
                .map(|(board, _)| *board),
        );
    }
    ReReferred(sets)
}

#[cfg(test)]
#[path = "tests/re_referrals.rs"]
mod tests;
