//! The one place vetting's errors become HTTP answers.

use pathway_common::http::ApiError;

use crate::application::Error;
use crate::domain::claim::Refusal;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => ApiError::validation(fields),
            Error::Forbidden(error) => error.into(),
            Error::NotFound => ApiError::not_found(Error::NotFound.to_string()),
            Error::Refused(refusal) => refused(refusal),
            Error::NothingErasedYet(message) => ApiError::not_found(message),
            Error::Erased => ApiError::new(
                axum::http::StatusCode::GONE,
                "erased",
                "the patient's data on this referral was erased at their request: it is off the worklist for good",
            ),
            Error::Restricted => ApiError::conflict(
                "restricted",
                "processing of this referral is restricted at the patient's request: it is off the worklist until the board lifts the restriction",
            ),
            Error::Unavailable { what, cause } => ApiError::unavailable(what, cause),
            Error::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}

/// 409, with the code a client can act on and the facts it needs.
fn refused(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::ClaimedByAnother {
            claimed_by, until, ..
        } => ApiError::conflict("claimed_by_another_clinician", message)
            .with_detail("claimed_by", claimed_by)
            .with_detail(
                "lease_expires_at",
                until.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ),
        Refusal::NotClaimed => ApiError::conflict("not_claimed", message),
        Refusal::LeaseLapsed { lapsed_at } => ApiError::conflict("lease_lapsed", message)
            .with_detail(
                "lapsed_at",
                lapsed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ),
        Refusal::NotClaimable(status) => {
            ApiError::conflict(status.as_str(), message).with_detail("status", status.as_str())
        }
        Refusal::AlreadyVetted => ApiError::conflict("already_vetted", message),
        Refusal::NothingToCorrect(_) => ApiError::conflict("nothing_to_correct", message),
        Refusal::ChangedMeanwhile => ApiError::conflict("changed_meanwhile", message),
    }
}
