//! The one place the notification service's errors become HTTP answers.

use axum::http::StatusCode;
use pathway_common::http::ApiError;

use crate::application::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => ApiError::validation(fields),
            Error::Forbidden(error) => error.into(),
            Error::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", error.to_string())
            }
            Error::NotFound(message) => ApiError::not_found(message),
            Error::NotFailed { .. } => ApiError::conflict("not_failed", error.to_string()),
            Error::Changed { .. } => ApiError::conflict("changed", error.to_string()),
            Error::CannotBeSent(message) => ApiError::conflict("cannot_be_sent", message),
            Error::Erased => ApiError::new(
                axum::http::StatusCode::GONE,
                "erased",
                "the patient's data on this referral was erased at their request: nothing about it is sent",
            ),
            Error::OtherNotification { .. } => {
                ApiError::conflict("other_notification", error.to_string())
            }
            // Only the consumer's use cases reject; a request never does.
            Error::Rejected(reason) => ApiError::Internal(anyhow::anyhow!(reason)),
            Error::Unavailable { what, cause } => ApiError::unavailable(what, cause),
            Error::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}
