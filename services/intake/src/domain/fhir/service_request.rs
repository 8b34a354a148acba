//! The `ServiceRequest` a referral Bundle is answered with: the referral as
//! received, a `UKCore-ServiceRequest` whose `id` is the referral id.
//!
//! It names the service asked for (Pathway's code and SNOMED CT's, as a
//! GP system may send either), the board as `performer` and the day it was
//! received as `authoredOn`. `subject` is only a display: the patient is the
//! one of the Bundle just sent, and the answer repeats no identifier of
//! theirs.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{
    BOARD_SYSTEM, PAIN_SERVICE, PAIN_SERVICE_SNOMED, SERVICE_SYSTEM, SNOMED_SYSTEM, uk_core,
};
use crate::domain::appointment::fhir::REFERRAL_SYSTEM;

/// A referral as received.
#[derive(Debug, Clone)]
pub struct Received<'a> {
    pub referral_id: &'a str,
    pub board: &'a str,
    /// Pathway's status and route, as the native API names them.
    pub status: &'a str,
    pub route: &'a str,
    pub received_at: DateTime<Utc>,
    pub version: i64,
}

/// The `ServiceRequest` of a referral just received.
pub fn resource(received: &Received<'_>) -> Value {
    let at = received
        .received_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let (snomed, snomed_display) = PAIN_SERVICE_SNOMED;
    json!({
        "resourceType": "ServiceRequest",
        "id": received.referral_id,
        "meta": {
            "versionId": received.version.to_string(),
            "lastUpdated": at,
            "profile": uk_core::profile(uk_core::SERVICE_REQUEST),
        },
        "identifier": [{"system": REFERRAL_SYSTEM, "value": received.referral_id}],
        "status": "active",
        "intent": "order",
        "code": {
            "coding": [
                {"system": SERVICE_SYSTEM, "code": PAIN_SERVICE, "display": "Chronic pain service"},
                {"system": SNOMED_SYSTEM, "code": snomed, "display": snomed_display},
            ],
            "text": "Chronic pain service",
        },
        "subject": {"display": "the patient of the Bundle"},
        "authoredOn": at,
        "performer": [{"identifier": {"system": BOARD_SYSTEM, "value": received.board}}],
        "note": [{"text": format!(
            "Pathway status {}, route {}",
            received.status, received.route
        )}],
    })
}
