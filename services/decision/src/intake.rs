//! The outbound adapter to intake: who sent a referral, asked over NATS
//! request/reply with this service's token through the shared
//! [`IntakeClient`], and read from the typed look-up reply. Decision keeps no
//! patient data and no referrer identity of its own; it asks when a referrer
//! wants to see a decision.

use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_proto::v1::LookupPurpose;

/// What intake says about a referral's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrer {
    Subject(String),
    /// Intake has no such referral (or will not say: its patient asked for
    /// erasure or restriction).
    Unknown,
}

/// Who sent `referral_id` (intake gives nothing else for
/// [`LookupPurpose::ReferrerCheck`]), and why we ask (`purpose`, for
/// intake's audit row).
pub async fn referrer_of(
    intake: &IntakeClient,
    referral_id: &str,
    purpose: &str,
) -> Result<Referrer, IntakeError> {
    let referral = match intake
        .referral(referral_id, LookupPurpose::ReferrerCheck, purpose)
        .await
    {
        Ok(Some(referral)) => referral,
        // Nobody is shown a referral whose patient asked for erasure or
        // restriction, its referrer included.
        Ok(None) | Err(IntakeError::Erased | IntakeError::Restricted) => {
            return Ok(Referrer::Unknown);
        }
        Err(error) => return Err(error),
    };
    if referral.referrer_subject.is_empty() {
        tracing::warn!(referral_id, "intake's answer has no referrer_subject");
        return Err(IntakeError::Unavailable("intake's answer has no referrer"));
    }
    Ok(Referrer::Subject(referral.referrer_subject))
}
