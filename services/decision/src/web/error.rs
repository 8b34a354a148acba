//! The one place the decision service's errors become HTTP answers.

use http::StatusCode;
use pathway_common::http::ApiError;

use crate::application::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(fields) => ApiError::validation(fields),
            Error::Refused(why) => ApiError::new(StatusCode::CONFLICT, "refused", why),
            Error::Forbidden(why) => ApiError::forbidden(why),
            not_found @ Error::NotFound { .. } => ApiError::not_found(not_found.to_string()),
            Error::Conflict(why) => ApiError::conflict("conflict", why),
            // The same code as ever, so that callers that know it keep working.
            unavailable @ Error::ReferrerCheckUnavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "referrer_check_unavailable",
                format!("{unavailable}: try again shortly"),
            ),
            Error::Unavailable { what, cause } => ApiError::unavailable(what, cause),
            Error::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}
