//! How long a board keeps each kind of personal data Pathway holds: the
//! `retention` section of its settings. Each service's daily sweep removes
//! what is past its period (`docs/decisions/0024-retention.md` says why the
//! defaults are what they are).

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::days;

/// The periods, each counted from the last thing that happened to the
/// record (a referral's last change, a message's last attempt, an audit
/// row's writing), in whole Scottish days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Years a referral's identifiable data (the patient, the referrer's
    /// letter, contact details, opt-in links, appointments) is kept after
    /// its last change.
    pub referral_years: u32,
    /// Years the clinicians' free text about a referral (questions, advice,
    /// rationale, reasons) is kept after the referral's last change; never
    /// longer than the referral itself.
    pub clinical_text_years: u32,
    /// Days a message's address and words are kept after it was last
    /// tried; its delivery record (when, which channel, the outcome) stays.
    pub delivery_days: u32,
    /// Years an audit row is kept after it was written.
    pub audit_years: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            referral_years: 8,
            clinical_text_years: 8,
            delivery_days: 365,
            audit_years: 8,
        }
    }
}

/// The longest any period may be set to: beyond it, data is kept for no
/// purpose this pathway has.
const MAX_YEARS: u32 = 30;

impl Retention {
    /// Every problem with the section, as `(field, reason)`, each field
    /// named under `retention.`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, years) in [
            ("referral_years", self.referral_years),
            ("clinical_text_years", self.clinical_text_years),
            ("audit_years", self.audit_years),
        ] {
            if !(1..=MAX_YEARS).contains(&years) {
                out.push((
                    format!("retention.{name}"),
                    format!("must be 1 to {MAX_YEARS} years"),
                ));
            }
        }
        if self.clinical_text_years > self.referral_years {
            out.push((
                "retention.clinical_text_years".into(),
                "must not be longer than retention.referral_years: the text is part of the referral's record".into(),
            ));
        }
        if !(30..=3650).contains(&self.delivery_days) {
            out.push((
                "retention.delivery_days".into(),
                "must be 30 to 3650 days".into(),
            ));
        }
        out
    }

    /// The first instant no longer past the referral period on `today`:
    /// a referral last changed before it is due to go.
    pub fn referral_cutoff(&self, today: NaiveDate) -> DateTime<Utc> {
        years_before(today, self.referral_years)
    }

    /// As [`Self::referral_cutoff`], for the clinicians' free text.
    pub fn clinical_text_cutoff(&self, today: NaiveDate) -> DateTime<Utc> {
        years_before(today, self.clinical_text_years)
    }

    /// As [`Self::referral_cutoff`], for a message's address and words.
    pub fn delivery_cutoff(&self, today: NaiveDate) -> DateTime<Utc> {
        let day = today
            .checked_sub_signed(TimeDelta::days(i64::from(self.delivery_days)))
            .unwrap_or(NaiveDate::MIN);
        days::start_of(day)
    }

    /// As [`Self::referral_cutoff`], for an audit row.
    pub fn audit_cutoff(&self, today: NaiveDate) -> DateTime<Utc> {
        years_before(today, self.audit_years)
    }
}

/// The start of the Scottish day `years` before `today` (29 February going
/// back to a year without one becomes 28 February).
fn years_before(today: NaiveDate, years: u32) -> DateTime<Utc> {
    let day = today
        .checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN);
    days::start_of(day)
}

#[cfg(test)]
#[path = "../tests/retention.rs"]
mod tests;
