//! The periods a date range is cut into: ISO weeks (Monday to Sunday),
//! calendar months and calendar quarters. A period is named `2026-W14`,
//! `2026-04` or `2026-Q2`; the first and last are cut to the range asked for.
//! The days are Scottish days: a fact falls in the period holding the day
//! it happened on in Scotland ([`pathway_proto::days::day_of`]).

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Week,
    Month,
    Quarter,
}

impl Granularity {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            _ => None,
        }
    }

    /// The first day of the period holding `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
            Self::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
            }
        }
    }

    /// The first day of the period after the one starting on `start`.
    fn next_start(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Week => start.checked_add_days(Days::new(7)),
            Self::Month => start.checked_add_months(chrono::Months::new(1)),
            Self::Quarter => start.checked_add_months(chrono::Months::new(3)),
        }
    }

    /// The period's name, from its first day.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Self::Week => {
                let week = start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Self::Month => format!("{}-{:02}", start.year(), start.month()),
            Self::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }
}

/// One period of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    /// First day counted (the range's start for the first period).
    pub first: NaiveDate,
    /// Last day counted (the range's end for the last period).
    pub last: NaiveDate,
}

/// The periods covering `from..=to`, in order.
pub fn periods(from: NaiveDate, to: NaiveDate, by: Granularity) -> Vec<Period> {
    let mut out = Vec::new();
    let mut start = by.start_of(from);
    while start <= to {
        let Some(next) = by.next_start(start) else {
            break;
        };
        let last = next.pred_opt().unwrap_or(next).min(to);
        out.push(Period {
            label: by.label(start),
            first: start.max(from),
            last,
        });
        start = next;
    }
    out
}

#[cfg(test)]
#[path = "tests/period.rs"]
mod tests;
