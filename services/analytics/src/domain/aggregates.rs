//! What one fact adds to the metrics' aggregates: counters by board,
//! Scottish day, split and group, kept by the consumer in the fact's
//! transaction so a metrics query sums counters instead of reading every
//! fact.
//!
//! A fact's contribution follows [`crate::domain::metrics::Metrics::add`]
//! counter for counter: receipts by route on the day of receipt; on the day
//! of the first vetting outcome the wait (all four of its numbers, so the
//! quantiles come out exactly as from the facts), within target, with a
//! question, with a failed notification and the outcome; each answer's
//! turnaround on the day of the answer; a withdrawal on its day. A counter
//! with no day says the fact exists, so a split names its group. Managed
//! without a specialist is worked out from the outcomes at query time (the
//! outcomes counted so depend on the service's settings). Re-referrals are
//! counted on the day of vetting by the boards the patient was referred to
//! again ([`Counter::Followed`], under their own dimension): which of them
//! count depends on today and on the boards asked for, which the query
//! settles ([`crate::domain::re_referrals`]).
//!
//! When a fact changes, its old contribution is taken off and its new one
//! added ([`difference`]); when a board's settings or pathway change, the
//! board's counters are worked out again from its facts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pathway_proto::{BoardCode, days};

use super::fact::{Fact, Route};
use super::metrics::{BoardContext, Split};
use super::re_referrals::{BoardSet, WINDOWS, is_followed};
use super::waits::{Wait, wait};

/// Each split a query may ask for, and the one a query without a split
/// sums over (adoption: every fact is either before or after).
pub const DIMENSIONS: [Split; 6] = [
    Split::Adoption,
    Split::UrbanRural,
    Split::Simd,
    Split::AgeBand,
    Split::Sex,
    Split::Priority,
];

/// The dimension a query with `split` reads.
pub fn dimension_of(split: Option<Split>) -> Split {
    split.unwrap_or(Split::Adoption)
}

/// A split's name as stored.
pub fn dimension_name(split: Split) -> &'static str {
    match split {
        Split::Adoption => "adoption",
        Split::UrbanRural => "urban_rural",
        Split::Simd => "simd",
        Split::AgeBand => "age_band",
        Split::Sex => "sex",
        Split::Priority => "priority",
    }
}

/// A split's name for the counters of re-referrals ([`Counter::Followed`]),
/// kept apart: a query reads them only up to the last day whose windows
/// have ended.
pub fn followed_dimension_name(split: Split) -> &'static str {
    match split {
        Split::Adoption => "adoption:rf",
        Split::UrbanRural => "urban_rural:rf",
        Split::Simd => "simd:rf",
        Split::AgeBand => "age_band:rf",
        Split::Sex => "sex:rf",
        Split::Priority => "priority:rf",
    }
}

/// One counter of a group on a day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// The fact exists (no day).
    Fact,
    ReceivedRemote,
    ReceivedStandard,
    /// A referral vetted with this wait: working days, calendar days, and
    /// the working and calendar days paused.
    Vetted([u32; 4]),
    WithinTarget,
    InfoRequested,
    NotificationFailed,
    Outcome(String),
    /// An answer given after this many working days.
    Answered(u32),
    Withdrawn,
    /// A referral closed with advice, on the day of its vetting, followed
    /// for `months`, whose patient was referred again within them to
    /// `boards` (none, often).
    Followed {
        months: u32,
        boards: BoardSet,
    },
}

impl Counter {
    /// Its stored name.
    pub fn name(&self) -> String {
        match self {
            Self::Fact => "f".into(),
            Self::ReceivedRemote => "rr".into(),
            Self::ReceivedStandard => "rs".into(),
            Self::Vetted([w, c, wp, cp]) => format!("w:{w}:{c}:{wp}:{cp}"),
            Self::WithinTarget => "wt".into(),
            Self::InfoRequested => "ir".into(),
            Self::NotificationFailed => "nf".into(),
            Self::Outcome(code) => format!("o:{code}"),
            Self::Answered(days) => format!("t:{days}"),
            Self::Withdrawn => "wd".into(),
            Self::Followed { months, boards } => format!("rf{months}:{}", boards.bits()),
        }
    }

    /// The counter a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "f" => Self::Fact,
            "rr" => Self::ReceivedRemote,
            "rs" => Self::ReceivedStandard,
            "wt" => Self::WithinTarget,
            "ir" => Self::InfoRequested,
            "nf" => Self::NotificationFailed,
            "wd" => Self::Withdrawn,
            _ => {
                if let Some(code) = name.strip_prefix("o:") {
                    Self::Outcome(code.to_owned())
                } else if let Some(days) = name.strip_prefix("t:") {
                    Self::Answered(days.parse().ok()?)
                } else if let Some(rest) = name.strip_prefix("rf") {
                    let (months, bits) = rest.split_once(':')?;
                    Self::Followed {
                        months: months.parse().ok()?,
                        boards: BoardSet::from_bits(bits.parse().ok()?)?,
                    }
                } else {
                    let mut parts = name.strip_prefix("w:")?.split(':');
                    let mut next = || parts.next()?.parse::<u32>().ok();
                    Self::Vetted([next()?, next()?, next()?, next()?])
                }
            }
        })
    }
}

/// Where a counter is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub dimension: &'static str,
    pub board: BoardCode,
    /// `None` for [`Counter::Fact`].
    pub day: Option<NaiveDate>,
    pub group: String,
    pub counter: Counter,
}

/// Counter changes, by where they are kept.
pub type Deltas = BTreeMap<Key, i64>;

/// The group of `fact` in `dimension` (as the metrics name it).
pub fn group_of(fact: &Fact, board: &BoardContext, dimension: Split) -> String {
    let known = |n: u8| {
        if n == 0 {
            "unknown".to_owned()
        } else {
            n.to_string()
        }
    };
    match dimension {
        Split::Adoption => {
            let after = match (board.adopted_on, fact.received_at) {
                (Some(on), Some(received)) => days::day_of(received) >= on,
                _ => false,
            };
            if after { "after" } else { "before" }.into()
        }
        Split::UrbanRural => known(fact.attributes.urban_rural_class),
        Split::Simd => known(fact.attributes.simd_quintile),
        Split::AgeBand => fact.attributes.age_band.clone(),
        Split::Sex => fact.attributes.sex.clone(),
        Split::Priority => match fact.outcome.as_deref() {
            Some("accept") => fact.priority.clone().unwrap_or_else(|| "none".into()),
            _ => "none".into(),
        },
    }
}

/// The counters of `fact` on its own, in one dimension's group, by day.
fn counters(fact: &Fact, board: &BoardContext) -> Vec<(Option<NaiveDate>, Counter)> {
    let mut out = vec![(None, Counter::Fact)];
    if let (Some(received), Some(route)) = (fact.received_at, fact.route) {
        let counter = match route {
            Route::Remote => Counter::ReceivedRemote,
            Route::Standard => Counter::ReceivedStandard,
        };
        out.push((Some(days::day_of(received)), counter));
    }
    if let (Some(received), Some(vetted)) = (fact.received_at, fact.vetted_at) {
        let day = Some(days::day_of(vetted));
        let w = wait(board, received, vetted, &fact.pauses);
        if w.working_days_excluding_paused() <= board.target_on(days::day_of(received)) {
            out.push((day, Counter::WithinTarget));
        }
        if !fact.pauses.is_empty() {
            out.push((day, Counter::InfoRequested));
        }
        if fact.notification_failures > 0 {
            out.push((day, Counter::NotificationFailed));
        }
        let outcome = fact.outcome.clone().unwrap_or_else(|| "unknown".into());
        out.push((day, Counter::Outcome(outcome)));
        out.push((day, Counter::Vetted(numbers(&w))));
    }
    for pause in &fact.pauses {
        if let Some(answered) = pause.answered_at {
            let turnaround = board
                .working_days_between(days::day_of(pause.requested_at), days::day_of(answered));
            out.push((Some(days::day_of(answered)), Counter::Answered(turnaround)));
        }
    }
    if let Some(withdrawn) = fact.withdrawn_at {
        out.push((Some(days::day_of(withdrawn)), Counter::Withdrawn));
    }
    if let Some(vetted) = fact.vetted_at.filter(|_| is_followed(fact)) {
        for (months, boards) in WINDOWS.into_iter().zip(fact.re_referred.0) {
            out.push((
                Some(days::day_of(vetted)),
                Counter::Followed { months, boards },
            ));
        }
    }
    out
}

/// A wait's four numbers, as [`Counter::Vetted`] keeps them.
pub fn numbers(w: &Wait) -> [u32; 4] {
    [
        w.working_days,
        w.calendar_days,
        w.working_days_paused,
        w.calendar_days_paused,
    ]
}

/// The wait [`Counter::Vetted`] keeps.
pub fn wait_of(numbers: [u32; 4]) -> Wait {
    let [
        working_days,
        calendar_days,
        working_days_paused,
        calendar_days_paused,
    ] = numbers;
    Wait {
        working_days,
        calendar_days,
        working_days_paused,
        calendar_days_paused,
    }
}

/// Add `sign` times `fact`'s contribution (worked out under `board`) to `deltas`.
pub fn contribute(deltas: &mut Deltas, fact: &Fact, board: &BoardContext, sign: i64) {
    let counters = counters(fact, board);
    for dimension in DIMENSIONS {
        let group = group_of(fact, board, dimension);
        for (day, counter) in &counters {
            let key = Key {
                dimension: match counter {
                    Counter::Followed { .. } => followed_dimension_name(dimension),
                    _ => dimension_name(dimension),
                },
                board: fact.board,
                day: *day,
                group: group.clone(),
                counter: counter.clone(),
            };
            *deltas.entry(key).or_default() += sign;
        }
    }
}

/// What changing `old` (if any) into `new` does to the counters, without
/// the counters it leaves as they were.
pub fn difference(old: Option<&Fact>, new: &Fact, board: &BoardContext) -> Deltas {
    let mut deltas = Deltas::new();
    if let Some(old) = old {
        contribute(&mut deltas, old, board, -1);
    }
    contribute(&mut deltas, new, board, 1);
    deltas.retain(|_, n| *n != 0);
    deltas
}

#[cfg(test)]
#[path = "tests/aggregates.rs"]
mod tests;
