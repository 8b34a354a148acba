//! How long a child's referral is kept beyond its board's period. The
//! Scottish records code keeps a child's record until the patient's 25th
//! birthday (26th if 17 at the end of treatment); Pathway keeps a referral
//! of a patient under 18 when it was received at least until the year
//! after their 26th birthday begins (so every such birthday has passed), and
//! the board's `retention.referral_years` after its last change if that is
//! later.
//!
//! Only the year is stored beside the referral (`keep_until_year`), never
//! the date of birth, which stays inside the encrypted document.

use chrono::{Datelike, NaiveDate};

use super::routing::age_on;

/// Under this age at receipt, a patient's referral is a child's record.
pub const CHILD_UNDER: i32 = 18;

/// What is kept beside a referral: the year from whose first day a child's
/// referral may go, or [`KeepUntil::Adult`] when the patient was an adult at
/// receipt (only the board's period applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepUntil {
    Adult,
    /// Not before 1 January of this year (the year after the 26th birthday).
    Year(i32),
}

impl KeepUntil {
    /// The rule for a patient born on `date_of_birth`, received on
    /// `received_on` (a Scottish day).
    pub fn of(date_of_birth: NaiveDate, received_on: NaiveDate) -> Self {
        if age_on(date_of_birth, received_on) < CHILD_UNDER {
            Self::Year(date_of_birth.year() + 27)
        } else {
            Self::Adult
        }
    }

    /// As the `keep_until_year` column holds it: the year, or 0 for an
    /// adult (null is "not yet worked out", for referrals stored before the
    /// column).
    pub fn stored(self) -> i32 {
        match self {
            Self::Adult => 0,
            Self::Year(year) => year,
        }
    }

    /// Whether a referral with this rule may go on the Scottish day `today`
    /// (its board's period having passed).
    pub fn allows_on(self, today: NaiveDate) -> bool {
        match self {
            Self::Adult => true,
            Self::Year(year) => today.year() >= year,
        }
    }
}

#[cfg(test)]
#[path = "tests/retention.rs"]
mod tests;
