//! UK Core, HL7 UK's R4 profiles: the canonical URL of each profile Pathway
//! follows, declared in `meta.profile` of every resource it emits that UK
//! Core profiles (`ServiceRequest`, `Task`, `Questionnaire`, `Communication`,
//! `OperationOutcome`, the search `Bundle`), and of the profiles a sender may
//! declare on what Pathway accepts.
//!
//! These profiles make nothing mandatory beyond R4's own minimums: they mark
//! elements must-support, bind codes (preferred or extensible) and define
//! optional extensions. Pathway fills the must-support elements it knows of,
//! and leaves out on purpose what it does not carry: the patient (`Task.for`,
//! `Communication.subject`; the GP system knows its patient, and Pathway's
//! answers then carry no patient identifier). Its identifiers are Scottish:
//! the CHI number, not the NHS number of UK Core's `nhsNumber` slice (which
//! is optional, and its slicing open); the GP practice and the board in
//! Pathway's own systems, not ODS codes. The reasons, and the profiles'
//! versions, are in `docs/decisions/0017-fhir-referrals.md`.
//!
//! Accepted resources may declare any profile and carry any extension:
//! Pathway reads the elements it uses and ignores the rest.

use serde_json::{Value, json};

/// `UKCore-ServiceRequest`: the referral Pathway answers a Bundle with.
pub use pathway_proto::fhir::uk_core::SERVICE_REQUEST;
/// `UKCore-Task`: a referral's status.
pub const TASK: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task";
/// `UKCore-Questionnaire`: the referral questionnaire.
pub const QUESTIONNAIRE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Questionnaire";
/// `UKCore-Communication`: the referrer's answer, as recorded.
pub const COMMUNICATION: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Communication";
/// `UKCore-OperationOutcome`: every problem and every appointment receipt.
pub const OPERATION_OUTCOME: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome";
/// `UKCore-Bundle`: a Task search's `searchset`; a referral's `collection`
/// may declare it.
pub use pathway_proto::fhir::uk_core::BUNDLE;
/// `UKCore-Appointment`: a hospital system's appointment may declare it.
pub const APPOINTMENT: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Appointment";

/// `meta.profile` naming one profile.
pub fn profile(url: &str) -> Value {
    json!([url])
}

#[cfg(test)]
#[path = "tests/uk_core.rs"]
mod tests;
