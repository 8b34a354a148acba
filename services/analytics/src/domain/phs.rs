//! Waits to the first appointment as Public Health Scotland's quarterly
//! "Chronic pain waiting times" publication counts them
//! (`docs/decisions/0016-phs-waits.md`):
//!
//! - **weeks waited** are completed weeks, `floor(days / 7)`, where days
//!   run from the Scottish day the referral was received to the Scottish
//!   day of the first appointment attended (or, for a patient still
//!   waiting, the census day);
//! - bands: 12 weeks or less (0–90 days), 13–24 (91–174), 25–51
//!   (175–363), 52 or more (364 days and over);
//! - **seen**: referrals whose first appointment was attended in the
//!   period (by its Scottish day), consultant-led pain clinics apart and
//!   every first appointment with the most appropriate clinician (any
//!   clinic type) together;
//! - **still waiting** at the period's last day: remote-pathway referrals
//!   received by then, neither seen, withdrawn nor closed by then, and not
//!   decided for an outcome that needs no appointment; where they are:
//!   awaiting vetting, awaiting information (a question to the referrer
//!   open that day), awaiting their first appointment;
//! - **paused** days are those waiting on the referrer's information: from
//!   the day of the question to the day of the answer (or of vetting, when
//!   the clinician went ahead without one, or of the census while it is
//!   still open), overlapping pauses counted once, taken off the days
//!   before the weeks are counted;
//! - **decision to first appointment**: days from the Scottish day of the
//!   first decision to that of the first appointment attended, by clinic
//!   type, as median and 90th centile ([`quantile`]).
//!
//! A fact keeps only its current outcome, so a census of a past day judges
//! a referral by the outcome it has now.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::days;

use super::fact::{Fact, Pause, Route};
use super::period::{Period, periods};

/// PHS's weeks-waited bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    UpTo12,
    From13To24,
    From25To51,
    From52,
}

impl Band {
    pub const ALL: [Band; 4] = [
        Band::UpTo12,
        Band::From13To24,
        Band::From25To51,
        Band::From52,
    ];

    /// The band of a wait of `days` calendar days.
    pub fn of_days(days: u32) -> Self {
        match weeks_waited(days) {
            0..=12 => Band::UpTo12,
            13..=24 => Band::From13To24,
            25..=51 => Band::From25To51,
            _ => Band::From52,
        }
    }

    /// Its field name: `weeks_0_12`, `weeks_13_24`, `weeks_25_51`, `weeks_52_plus`.
    pub fn field(self) -> &'static str {
        match self {
            Band::UpTo12 => "weeks_0_12",
            Band::From13To24 => "weeks_13_24",
            Band::From25To51 => "weeks_25_51",
            Band::From52 => "weeks_52_plus",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Completed weeks in `days`.
pub fn weeks_waited(days: u32) -> u32 {
    days / 7
}

/// Where a referral still waiting is on the census day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    AwaitingVetting,
    AwaitingInformation,
    AwaitingFirstAppointment,
}

/// Outcomes that lead to a first appointment with a clinician: the
/// referral waits for it once decided.
pub const TO_APPOINTMENT: [&str; 5] = [
    "accept",
    "pain_management_programme",
    "pain_psychology",
    "physiotherapy",
    "residential_programme",
];

/// Clinic types, as the first appointment's events name them.
pub const CLINIC_TYPES: [&str; 4] = [
    "pain_clinic",
    "pain_psychology",
    "physiotherapy",
    "pain_management_programme",
];

/// The consultant-led clinic type.
pub const CONSULTANT_LED: &str = "pain_clinic";

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

/// Calendar days paused for information between `start` and `end`: each
/// pause from the day of its question to the day of its answer, else of
/// vetting, else `end`; cut to `start..=end`; overlaps counted once.
pub fn paused_days(
    start: NaiveDate,
    end: NaiveDate,
    pauses: &[Pause],
    vetted: Option<DateTime<Utc>>,
) -> u32 {
    let mut spans: Vec<(NaiveDate, NaiveDate)> = pauses
        .iter()
        .map(|p| {
            let from = days::day_of(p.requested_at).clamp(start, end);
            let to = p
                .answered_at
                .or(vetted)
                .map_or(end, days::day_of)
                .clamp(from, end);
            (from, to)
        })
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort_unstable();
    let mut total = 0u32;
    let mut current: Option<(NaiveDate, NaiveDate)> = None;
    for (from, to) in spans {
        current = match current {
            Some((f, t)) if from <= t => Some((f, t.max(to))),
            Some((f, t)) => {
                total = total.saturating_add(days_between(f, t));
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some((f, t)) = current {
        total = total.saturating_add(days_between(f, t));
    }
    total
}

/// A completed wait: the referral's first appointment attended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub day: NaiveDate,
    pub clinic_type: Option<String>,
    pub days: u32,
    pub days_excl_paused: u32,
    /// Days from the day of the first decision, when there was one by then.
    pub days_from_decision: Option<u32>,
}

/// `fact`'s completed wait, if its first appointment was attended.
pub fn seen(fact: &Fact) -> Option<Seen> {
    let received = days::day_of(fact.received_at?);
    let day = days::day_of(fact.first_appointment.attended_at?).max(received);
    let days = days_between(received, day);
    let paused = paused_days(received, day, &fact.pauses, fact.vetted_at);
    let days_from_decision = fact
        .decided_at
        .or(fact.vetted_at)
        .map(days::day_of)
        .filter(|d| *d <= day)
        .map(|d| days_between(d, day));
    Some(Seen {
        day,
        clinic_type: fact.first_appointment.clinic_type.clone(),
        days,
        days_excl_paused: days.saturating_sub(paused),
        days_from_decision,
    })
}

/// A referral still waiting at the end of the census day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub place: Place,
    pub days: u32,
    pub days_excl_paused: u32,
}

/// Whether and where `fact` is waiting at the end of Scottish day `on`.
pub fn waiting(fact: &Fact, on: NaiveDate) -> Option<Waiting> {
    if fact.route != Some(Route::Remote) {
        return None;
    }
    let received = days::day_of(fact.received_at?);
    let by = |at: Option<DateTime<Utc>>| at.is_some_and(|t| days::day_of(t) <= on);
    if received > on
        || by(fact.first_appointment.attended_at)
        || by(fact.withdrawn_at)
        || by(fact.closed_at)
    {
        return None;
    }
    let place = if by(fact.vetted_at) {
        match fact.outcome.as_deref() {
            Some(outcome) if TO_APPOINTMENT.contains(&outcome) => Place::AwaitingFirstAppointment,
            _ => return None,
        }
    } else if fact
        .pauses
        .iter()
        .any(|p| days::day_of(p.requested_at) <= on && !by(p.answered_at))
    {
        Place::AwaitingInformation
    } else {
        Place::AwaitingVetting
    };
    let vetted = fact.vetted_at.filter(|t| days::day_of(*t) <= on);
    let days = days_between(received, on);
    let paused = paused_days(received, on, &fact.pauses, vetted);
    Some(Waiting {
        place,
        days,
        days_excl_paused: days.saturating_sub(paused),
    })
}

/// Counts by band, in [`Band::ALL`]'s order.
pub type Bands = [u64; 4];

/// One period before disclosure control.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhsTally {
    pub seen_consultant_led: Bands,
    pub seen_consultant_led_excl_paused: Bands,
    pub seen_all: Bands,
    pub seen_all_excl_paused: Bands,
    pub waiting: Bands,
    pub waiting_excl_paused: Bands,
    /// awaiting vetting, awaiting information, awaiting first appointment.
    pub waiting_places: [u64; 3],
    /// Days from decision to first appointment, by clinic type.
    pub decision_to_appointment: BTreeMap<String, Vec<u32>>,
}

/// The periods of `from..=to` by `by`, each with its tally over `facts`.
pub struct PhsWaits {
    pub periods: Vec<Period>,
    pub tallies: Vec<PhsTally>,
}

impl PhsWaits {
    pub fn new(from: NaiveDate, to: NaiveDate, by: super::period::Granularity) -> Self {
        let periods = periods(from, to, by);
        let mut tally = PhsTally::default();
        for clinic in CLINIC_TYPES {
            tally
                .decision_to_appointment
                .insert(clinic.into(), Vec::new());
        }
        let tallies = vec![tally; periods.len()];
        Self { periods, tallies }
    }

    /// Count `fact` where its first attendance falls and in every census.
    pub fn add(&mut self, fact: &Fact) {
        if let Some(seen) = seen(fact) {
            let index = self.periods.partition_point(|p| p.first <= seen.day);
            if let Some(i) = index.checked_sub(1)
                && let (Some(period), Some(t)) = (self.periods.get(i), self.tallies.get_mut(i))
                && seen.day <= period.last
            {
                let band = Band::of_days(seen.days).index();
                let band_excl = Band::of_days(seen.days_excl_paused).index();
                t.seen_all[band] += 1;
                t.seen_all_excl_paused[band_excl] += 1;
                if seen.clinic_type.as_deref() == Some(CONSULTANT_LED) {
                    t.seen_consultant_led[band] += 1;
                    t.seen_consultant_led_excl_paused[band_excl] += 1;
                }
                if let Some(d) = seen.days_from_decision {
                    let clinic = seen.clinic_type.unwrap_or_else(|| "unknown".into());
                    t.decision_to_appointment.entry(clinic).or_default().push(d);
                }
            }
        }
        for (period, t) in self.periods.iter().zip(self.tallies.iter_mut()) {
            if let Some(w) = waiting(fact, period.last) {
                t.waiting[Band::of_days(w.days).index()] += 1;
                t.waiting_excl_paused[Band::of_days(w.days_excl_paused).index()] += 1;
                let place = match w.place {
                    Place::AwaitingVetting => 0,
                    Place::AwaitingInformation => 1,
                    Place::AwaitingFirstAppointment => 2,
                };
                t.waiting_places[place] += 1;
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/phs.rs"]
mod tests;
