//! The one place intake's errors become HTTP answers.

use axum::http::StatusCode;
use pathway_common::http::{ApiError, FieldError};

use super::types::RejectionReasonBody;
use crate::application::{Error, OpenReferral};
use crate::domain::Transition;
use crate::domain::referral::RejectionReason;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => ApiError::validation(fields),
            Error::Rejected { reason, fields } => {
                ApiError::validation(fields).with_detail("rejection_reason", rejection(reason))
            }
            // Only the referrer who sent the open referral is told which it is.
            Error::Duplicate {
                open_referral: OpenReferral::Yours(id),
            } => ApiError::conflict(
                "duplicate_referral",
                "this patient already has an open referral with this board: follow that one, or send this again marked as a deliberate re-referral (\"re_referral\": true)",
            )
            .with_detail("open_referral_id", id)
            .with_detail("rejection_reason", rejection(RejectionReason::Duplicate)),
            Error::Duplicate {
                open_referral: OpenReferral::NotYours,
            } => ApiError::conflict(
                "duplicate_referral",
                "a referral for this patient is already open on the pain pathway with this board: contact the board's pain service",
            )
            .with_detail("rejection_reason", rejection(RejectionReason::Duplicate)),
            Error::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different referral: use a new key for a new referral",
            )
            .with_fields(vec![FieldError::new(
                "Idempotency-Key",
                "already used with another body",
            )]),
            Error::Concurrent => ApiError::conflict(
                "concurrent_request",
                "another request with this Idempotency-Key is in progress: retry in a moment",
            ),
            Error::Stale { current_version } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                "the referral has changed since you read it: fetch it again and retry",
            )
            .with_detail("current_version", current_version),
            Error::MalformedId => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_referral_id",
                "the referral id must be a UUID",
            )
            .with_fields(vec![FieldError::new("id", "not a UUID")]),
            Error::NotFound(message) => ApiError::not_found(message),
            Error::UnknownBoard(reason) => ApiError::not_found(reason)
                .with_fields(vec![FieldError::new("board", "unknown board code")]),
            Error::Forbidden(error) => error.into(),
            Error::IllegalTransition { from, transition } => {
                let (code, message) = match transition {
                    Transition::Withdrawn => (
                        "not_withdrawable",
                        format!("{error}: nothing was changed"),
                    ),
                    Transition::InfoProvided => (
                        "no_information_requested",
                        format!("no information has been asked for: the referral is {from}"),
                    ),
                    _ => ("illegal_transition", format!("{error}: nothing was changed")),
                };
                ApiError::conflict(code, message).with_detail("status", from.as_str())
            }
            Error::Erased => ApiError::new(
                StatusCode::GONE,
                "erased",
                "the patient's data on this referral was erased at their request: nothing of it can be read or changed",
            ),
            Error::Restricted => ApiError::conflict(
                "restricted",
                "processing of this referral is restricted at the patient's request: nothing can be read or changed until the board lifts it",
            ),
            Error::NoOpenInformationRequest => ApiError::conflict(
                "no_information_requested",
                "no open information request on this referral",
            ),
            Error::Unavailable(cause) => ApiError::unavailable("the database", cause),
            Error::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}

fn rejection(reason: RejectionReason) -> serde_json::Value {
    serde_json::json!(RejectionReasonBody::from(reason))
}
