//! A referral as a GP system sends it: every field optional and JSON-shaped,
//! so that [`ReferralRequest::validate`](super::ReferralRequest::validate)
//! can name every failing field at once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A referral to the chronic pain service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// Board code, e.g. `highland`.
    pub board: Option<String>,
    pub patient: Option<PatientRequest>,
    pub referrer: Option<ReferrerRequest>,
    pub clinical: Option<ClinicalRequest>,
    /// The patient agrees to their referral being vetted remotely. Must be true.
    pub consent_to_remote_pathway: Option<bool>,
    /// A deliberate second referral while one is still open for this patient.
    #[serde(default)]
    pub re_referral: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientRequest {
    /// Ten-digit CHI number.
    pub chi: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    /// `male`, `female` or `not_known`.
    pub sex: Option<String>,
    pub postcode: Option<String>,
    pub contact: Option<ContactRequest>,
    /// Any of `large_print`, `easy_read`, `braille`, `audio`,
    /// `british_sign_language`, `interpreter`, `wheelchair_access`, `hearing_loop`.
    #[serde(default)]
    pub accessibility_needs: Vec<String>,
    /// Required with the `interpreter` need.
    pub interpreter_language: Option<String>,
    /// ISO 639 code of the language the patient wants their letters, e-mails
    /// and texts in, e.g. `en` or `gd` (Scottish Gaelic); English when absent.
    pub preferred_language: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// `sms`, `email` or `letter`: how the patient wants to hear from the service.
    pub preferred: Option<String>,
    /// UK mobile number, for SMS.
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address: Option<AddressRequest>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    #[serde(default)]
    pub lines: Vec<String>,
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerRequest {
    /// Five-digit GP practice code.
    pub practice_code: Option<String>,
    pub clinician_name: Option<String>,
    /// `email` or `webhook`: where the pathway sends its answer.
    pub reply_channel: Option<String>,
    /// An e-mail address, or an https URL for a webhook.
    pub reply_address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicalRequest {
    pub pain_duration_months: Option<i64>,
    /// Any of the pain site codes (e.g. `lower_back`, `knee`, `widespread`).
    pub pain_sites: Option<Vec<String>>,
    /// 0-10 numeric rating scale.
    pub pain_intensity: Option<i64>,
    pub impact: Option<ImpactRequest>,
    /// The red-flag checklist: the codes ticked; an empty list means none.
    pub red_flags: Option<Vec<String>>,
    #[serde(default)]
    pub current_treatments: Vec<String>,
    #[serde(default)]
    pub previous_treatments: Vec<String>,
    /// What the referrer asks of the pain service.
    pub question: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// `none`, `mild`, `moderate` or `severe`.
    pub function: Option<String>,
    pub sleep: Option<String>,
    pub mood: Option<String>,
}
