//! The outbound adapter to intake: who sent a referral, asked over NATS
//! request/reply with this service's token. Decision keeps no patient data
//! and no referrer identity of its own; it asks when a referrer wants to see
//! a decision.

use pathway_common::http::ApiError;
use pathway_common::intake_client::{IntakeClient, IntakeError};

/// What intake says about a referral's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrer {
    Subject(String),
    /// Intake has no such referral (or will not say).
    Unknown,
}

/// Who sent `referral_id`, and why we ask (`purpose`, for intake's audit row).
pub async fn referrer_of(
    intake: &IntakeClient,
    referral_id: &str,
    purpose: &str,
) -> Result<Referrer, ApiError> {
    let referral = match intake.referral(referral_id, purpose).await {
        Ok(Some(referral)) => referral,
        Ok(None) => return Ok(Referrer::Unknown),
        Err(IntakeError::Unavailable(why)) => return Err(unavailable(why)),
        Err(IntakeError::Failed(error)) => return Err(ApiError::Internal(error)),
    };
    referral
        .get("referrer_subject")
        .and_then(|s| s.as_str())
        .map(|s| Referrer::Subject(s.to_owned()))
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("intake's answer has no referrer_subject"))
        })
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "referrer_check_unavailable",
        format!("{why}, so the referral's referrer cannot be checked now: try again shortly"),
    )
}
