//! The evaluators' metrics over a set of facts, by period and group.
//!
//! Each metric is counted in the period of its own event, by the Scottish
//! day (Europe/London, [`pathway_proto::days`]) the event happened on:
//! referrals received by the day of receipt, everything about vetting (waits, share
//! within target, information requests, outcomes) by the day the first
//! outcome was recorded, withdrawals by the day of withdrawal. The outcome is
//! the referral's current one (after any correction).
//!
//! - this module: what a query asks for and the rules it is counted by;
//! - [`board`]: a board's settings as they were on each day ([`BoardContext`]);
//! - [`aggregate`]: counting facts into each period and group ([`Metrics`]);
//! - [`row`]: one period of one group after disclosure control ([`MetricsRow`]).

use chrono::NaiveDate;
use pathway_proto::BoardCode;
use serde::Serialize;

use super::period::Granularity;

mod aggregate;
mod board;
mod row;

pub use aggregate::{Metrics, Referrals, compute};
pub use board::{BoardContext, SettingsVersion};
pub use row::MetricsRow;

/// How rows are grouped beyond their period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Per board, before and after its adoption date.
    Adoption,
    /// Scottish Government 6-fold urban/rural class (`unknown` when not derived).
    UrbanRural,
    /// SIMD quintile, 1 most deprived (`unknown` when not derived).
    Simd,
    AgeBand,
    Sex,
    /// The priority of an `accept` (`urgent`, `soon`, `routine`); `none`
    /// for every other outcome and for referrals not yet vetted.
    Priority,
}

impl Split {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "adoption" => Some(Self::Adoption),
            "urban_rural" => Some(Self::UrbanRural),
            "simd" => Some(Self::Simd),
            "age_band" => Some(Self::AgeBand),
            "sex" => Some(Self::Sex),
            "priority" => Some(Self::Priority),
            _ => None,
        }
    }

    pub const NAMES: [&'static str; 6] = [
        "adoption",
        "urban_rural",
        "simd",
        "age_band",
        "sex",
        "priority",
    ];
}

#[derive(Debug, Clone)]
pub struct MetricsQuery {
    pub boards: Vec<BoardCode>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    pub split: Option<Split>,
    /// Today in Scotland: a re-referral window counts only once it has ended.
    pub as_of: NaiveDate,
}

/// Outcomes after which a re-referral is looked for.
pub(crate) const CLOSED_WITH_ADVICE: [&str; 2] = ["advice_to_referrer", "self_management"];

/// Outcomes that count as managed without a specialist appointment.
#[derive(Debug, Clone)]
pub struct MetricRules {
    pub without_specialist: Vec<String>,
    pub suppression_threshold: u64,
}
