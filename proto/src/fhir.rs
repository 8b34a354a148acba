//! The FHIR identifier systems and UK Core profiles more than one service
//! writes: intake, which takes and answers referrals as FHIR, and
//! notification, which hands a referral on to a FHIR server. One copy, so
//! that a receiver sees the same CHI system and referral id system from
//! either.

/// Identifier system of Scotland's CHI number: the OID UK FHIR guides use
/// for the Community Health Index (not the NHS number's system).
pub const CHI_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.1.3.2.4.16.53";
/// Identifier system of a Scottish GP practice code.
pub const PRACTICE_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code";
/// Identifier system of the NHS board a referral is for.
pub const BOARD_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/board";
/// Identifier system of Pathway's referral ids.
pub const REFERRAL_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/Id/referral";
/// Code system of the services Pathway takes referrals for.
pub const SERVICE_SYSTEM: &str = "https://pathway.scot.nhs.uk/fhir/CodeSystem/service";
/// The one service: the chronic pain service.
pub const PAIN_SERVICE: &str = "chronic-pain";
/// SNOMED CT.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
/// SNOMED CT `310071006 |Pain management service|`, of the UK edition's
/// Services reference set that UK Core's care setting types draw on.
pub const PAIN_SERVICE_SNOMED: (&str, &str) = ("310071006", "Pain management service");

/// UK Core profiles, by canonical URL.
pub mod uk_core {
    /// `UKCore-ServiceRequest`.
    pub const SERVICE_REQUEST: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest";
    /// `UKCore-Patient`.
    pub const PATIENT: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
    /// `UKCore-Bundle`.
    pub const BUNDLE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle";
}
