//! The outbound adapter to intake: a referral's identifiable content, asked
//! over NATS request/reply with this service's token through the shared
//! [`IntakeClient`], and converted from the wire type into what a vetting
//! clinician reads ([`ReferralContent`]). Vetting keeps none of it: every
//! view asks again, and intake audits every read.
//!
//! [`ReferralContent`] serialises to the shape intake's JSON API gives the
//! referral as received (`patient`, `referrer`, `clinical`), so the clinician
//! API's `referral` object reads as it always has.

use std::collections::BTreeMap;

use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_common::pii::Pii;
use pathway_proto::v1 as proto;
use serde::Serialize;

use crate::domain::red_flag_code;

/// What intake gives vetting about one referral.
#[derive(Debug, Clone)]
pub struct Identifiable {
    /// The referral as the referrer sent it.
    pub content: ReferralContent,
    /// The referrer's answers, by information request id.
    pub answers: BTreeMap<String, String>,
}

/// The referral as the referrer sent it, with the patient's identifiers.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralContent {
    pub board: String,
    pub patient: PatientContent,
    pub referrer: ReferrerContent,
    pub clinical: ClinicalContent,
    pub re_referral: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatientContent {
    pub chi: Pii<String>,
    pub given_name: Pii<String>,
    pub family_name: Pii<String>,
    /// YYYY-MM-DD.
    pub date_of_birth: Pii<String>,
    /// `male`, `female` or `not_known`.
    pub sex: String,
    pub postcode: Pii<String>,
    pub contact: ContactContent,
    /// Accessibility need codes, e.g. `large_print`.
    pub accessibility_needs: Vec<String>,
    pub interpreter_language: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ContactContent {
    /// `sms`, `email` or `letter`.
    pub preferred: String,
    pub mobile: Option<Pii<String>>,
    pub email: Option<Pii<String>>,
    pub address: Option<AddressContent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressContent {
    pub lines: Pii<Vec<String>>,
    pub postcode: Pii<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReferrerContent {
    pub practice_code: String,
    pub clinician_name: String,
    pub reply: Option<ReplyContent>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplyContent {
    /// `email` or `webhook`.
    pub channel: String,
    pub address: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClinicalContent {
    pub pain_duration_months: u32,
    /// Pain site codes, e.g. `lower_back`.
    pub pain_sites: Vec<String>,
    /// 0 to 10.
    pub pain_intensity: u32,
    pub impact: ImpactContent,
    /// Red flag codes, e.g. `history_of_cancer`.
    pub red_flags: Vec<String>,
    pub current_treatments: Vec<String>,
    pub previous_treatments: Vec<String>,
    pub question: String,
}

/// `none`, `mild`, `moderate` or `severe` for each part of life.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImpactContent {
    pub function: String,
    pub sleep: String,
    pub mood: String,
}

/// The referral `referral_id` as intake holds it, as a vetting clinician
/// sees it ([`proto::LookupPurpose::VettingView`]), or `None` when intake has
/// no such referral; `purpose` goes into intake's audit row.
pub async fn referral_of(
    intake: &IntakeClient,
    referral_id: &str,
    purpose: &str,
) -> Result<Option<Identifiable>, IntakeError> {
    Ok(intake
        .referral(referral_id, proto::LookupPurpose::VettingView, purpose)
        .await?
        .map(Identifiable::from))
}

impl From<proto::IdentifiableReferral> for Identifiable {
    fn from(referral: proto::IdentifiableReferral) -> Self {
        let answers = referral
            .information_requests
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.answer.clone()?)))
            .collect();
        Self {
            content: ReferralContent::from(referral),
            answers,
        }
    }
}

impl From<proto::IdentifiableReferral> for ReferralContent {
    fn from(referral: proto::IdentifiableReferral) -> Self {
        let patient = referral.patient.unwrap_or_default();
        let sex = match patient.sex() {
            proto::Sex::Male => "male",
            proto::Sex::Female => "female",
            _ => "not_known",
        };
        let contact = patient.contact.unwrap_or_default();
        let referrer = referral.referrer.unwrap_or_default();
        let clinical = referral.clinical.unwrap_or_default();
        let impact = clinical.impact.clone().unwrap_or_default();
        Self {
            board: referral.board,
            patient: PatientContent {
                chi: Pii::new(patient.chi),
                given_name: Pii::new(patient.given_name),
                family_name: Pii::new(patient.family_name),
                date_of_birth: Pii::new(patient.date_of_birth),
                sex: sex.to_owned(),
                postcode: Pii::new(patient.postcode),
                contact: ContactContent {
                    preferred: contact.preferred,
                    mobile: contact.mobile.map(Pii::new),
                    email: contact.email.map(Pii::new),
                    address: contact.address.map(|a| AddressContent {
                        lines: Pii::new(a.lines),
                        postcode: Pii::new(a.postcode),
                    }),
                },
                accessibility_needs: patient.accessibility_needs,
                interpreter_language: patient.interpreter_language,
            },
            referrer: ReferrerContent {
                practice_code: referrer.practice_code,
                clinician_name: referrer.clinician_name,
                reply: referrer.reply.map(|r| ReplyContent {
                    channel: r.channel,
                    address: r.address,
                }),
            },
            clinical: ClinicalContent {
                pain_duration_months: clinical.pain_duration_months,
                red_flags: clinical
                    .red_flags()
                    .filter(|f| *f != proto::RedFlag::Unspecified)
                    .map(red_flag_code)
                    .collect(),
                pain_sites: clinical.pain_sites,
                pain_intensity: clinical.pain_intensity,
                impact: ImpactContent {
                    function: impact.function,
                    sleep: impact.sleep,
                    mood: impact.mood,
                },
                current_treatments: clinical.current_treatments,
                previous_treatments: clinical.previous_treatments,
                question: clinical.question,
            },
            re_referral: referral.re_referral,
        }
    }
}

#[cfg(test)]
#[path = "tests/intake.rs"]
mod tests;
