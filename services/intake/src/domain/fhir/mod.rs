//! A referral as FHIR R4 resources: a `Bundle` of type `collection` read
//! into the same [`ReferralRequest`](super::referral::ReferralRequest) the
//! native API takes ([`referral`]), so that every rule applies unchanged,
//! and the `Questionnaire` its clinical content answers ([`questionnaire`]);
//! the referral's status as a `Task` ([`task`]), searched by the
//! parameters of [`search`], and the referrer's answer to a question as a
//! `Communication` ([`communication`]); a `Subscription` to Tasks'
//! changes ([`subscription`]). Each emitted resource UK Core profiles
//! declares that profile ([`uk_core`]).
//!
//! Identifier and code systems:
//! - CHI number: [`CHI_SYSTEM`], the OID UK FHIR guides use for Scotland's
//!   Community Health Index.
//! - GP practice code: [`PRACTICE_SYSTEM`]; the board the referral is for:
//!   [`BOARD_SYSTEM`] (Pathway's board codes, e.g. `highland`).
//! - The service asked for: [`SERVICE_SYSTEM`] `chronic-pain`, or SNOMED CT
//!   [`PAIN_SERVICE_SNOMED`] beside it or instead of it.
//! - Red flags with a SNOMED CT concept of the same meaning may be answered
//!   with it ([`RED_FLAG_SNOMED`]); the others only with Pathway's codes.
//! - The answers' codes: Pathway's code systems under [`CODE_SYSTEM_BASE`],
//!   whose codes are the native API's.

pub mod communication;
pub mod questionnaire;
pub mod referral;
pub mod search;
pub mod service_request;
pub mod subscription;
pub mod task;
pub mod uk_core;

// Shared with notification, which hands referrals on to FHIR servers.
pub use pathway_proto::fhir::{
    BOARD_SYSTEM, CHI_SYSTEM, PAIN_SERVICE, PAIN_SERVICE_SNOMED, PRACTICE_SYSTEM, SERVICE_SYSTEM,
    SNOMED_SYSTEM,
};
/// Red flags of the checklist with a SNOMED CT concept of the same meaning:
/// Pathway's code, the SNOMED CT code, its display. Checked against
/// published FHIR guides' uses of each concept; flags with no concept
/// confirmed so are left out rather than guessed.
pub const RED_FLAG_SNOMED: [(&str, &str, &str); 3] = [
    (
        "unexplained_weight_loss",
        "422868009",
        "Unexplained weight loss",
    ),
    (
        "history_of_cancer",
        "266987004",
        "History of malignant neoplasm",
    ),
    ("immunosuppression", "38013005", "Immunosuppression"),
];
/// Where Pathway's own code systems live.
pub const CODE_SYSTEM_BASE: &str = "https://pathway.scot.nhs.uk/fhir/CodeSystem/";
/// Canonical URL of the referral questionnaire.
pub const QUESTIONNAIRE_URL: &str = "https://pathway.scot.nhs.uk/fhir/Questionnaire/pain-referral";

/// One problem, as a FHIR `OperationOutcome.issue` will carry it.
pub use super::appointment::fhir::Issue;
