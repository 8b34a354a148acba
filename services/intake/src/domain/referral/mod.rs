//! A referral as a GP system sends it ([`request`]), the rules it must meet
//! ([`validate`]: parse once, report every failing field at once), and the
//! validated referral it becomes: a [`NewReferral`] whose fields are trusted
//! everywhere inside.

mod codes;
mod language;
mod request;
mod validate;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use pathway_common::pii::Pii;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use codes::{AccessibilityNeed, ImpactLevel, PainSite, RedFlag, WithdrawReason};
pub use language::Language;
pub use request::{
    AddressRequest, ClinicalRequest, ContactRequest, ImpactRequest, PatientRequest,
    ReferralRequest, ReferrerRequest,
};

use super::{BoardCode, ChiNumber, Postcode, Sex};

/// Where a received referral went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// The board is on the remote pathway: the referral is vetted here.
    RemotePathway,
    /// The board is not (yet) on it: recorded, and handed to the board's
    /// standard route.
    Standard,
    /// The patient is under the board's paediatric age: handed to the
    /// board's paediatric service.
    Paediatric,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::RemotePathway => "remote_pathway",
            Route::Standard => "standard",
            Route::Paediatric => "paediatric",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Route::RemotePathway, Route::Standard, Route::Paediatric]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// Why a referral was not accepted, as the NHS Data Dictionary codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionReason {
    /// `01`: the patient already has an open referral with the board.
    Duplicate,
    /// `02`: not appropriate for this pathway (no consent to remote vetting).
    Inappropriate,
    /// `03`: fields missing or not valid.
    Incomplete,
}

impl RejectionReason {
    pub fn code(self) -> &'static str {
        match self {
            RejectionReason::Duplicate => "01",
            RejectionReason::Inappropriate => "02",
            RejectionReason::Incomplete => "03",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            RejectionReason::Duplicate => "duplicate",
            RejectionReason::Inappropriate => "inappropriate",
            RejectionReason::Incomplete => "incomplete",
        }
    }

    /// Why `request`, which failed validation, is rejected: without the
    /// patient's consent it is inappropriate, otherwise incomplete.
    pub fn of_invalid(request: &ReferralRequest) -> Self {
        if request.consent_to_remote_pathway == Some(false) {
            RejectionReason::Inappropriate
        } else {
            RejectionReason::Incomplete
        }
    }
}

// ------------------------------------------------------------- validated --

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReferral {
    pub board: BoardCode,
    pub patient: Patient,
    pub referrer: Referrer,
    pub clinical: Clinical,
    pub re_referral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub chi: ChiNumber,
    pub given_name: Pii<String>,
    pub family_name: Pii<String>,
    pub date_of_birth: Pii<NaiveDate>,
    pub sex: Sex,
    pub postcode: Postcode,
    pub contact: Contact,
    pub accessibility_needs: BTreeSet<AccessibilityNeed>,
    pub interpreter_language: Option<String>,
    /// The language of the patient's written messages; `None` is English.
    /// Referrals stored before it was asked read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<Language>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub preferred: ContactChannel,
    pub mobile: Option<Pii<String>>,
    pub email: Option<Pii<String>>,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub lines: Pii<Vec<String>>,
    pub postcode: Postcode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Sms,
    Email,
    Letter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referrer {
    pub practice_code: String,
    pub clinician_name: String,
    pub reply: ReplyTo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "address", rename_all = "snake_case")]
pub enum ReplyTo {
    Email(String),
    Webhook(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clinical {
    pub pain_duration_months: u32,
    pub pain_sites: BTreeSet<PainSite>,
    pub pain_intensity: u8,
    pub impact: Impact,
    pub red_flags: BTreeSet<RedFlag>,
    pub current_treatments: Vec<String>,
    pub previous_treatments: Vec<String>,
    pub question: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub function: ImpactLevel,
    pub sleep: ImpactLevel,
    pub mood: ImpactLevel,
}
