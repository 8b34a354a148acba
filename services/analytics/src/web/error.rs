//! The one place analytics' errors become HTTP answers.

use axum::http::StatusCode;
use pathway_common::http::ApiError;

use crate::application::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidFile {
                fields,
                rejected_rows,
            } => ApiError::validation(fields).with_detail("rejected_rows", rejected_rows),
            Error::Forbidden(message) => ApiError::forbidden(message),
            Error::Rebuilding { handled, remaining } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "rebuilding",
                format!(
                    "analytics is rebuilding its facts from the stream ({handled} messages handled, {remaining} to go): \
                     ask again when it is done (GET /v1/rebuild)"
                ),
            ),
            Error::RebuildRunning { handled, remaining } => ApiError::conflict(
                "rebuild_running",
                format!(
                    "a rebuild is running already ({handled} messages handled, {remaining} to go): follow it with GET /v1/rebuild"
                ),
            ),
            Error::RebuildRefused(reason) => ApiError::conflict("rebuild_would_lose_facts", reason),
            Error::Unavailable(cause) => ApiError::unavailable("the database", cause),
            Error::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}
