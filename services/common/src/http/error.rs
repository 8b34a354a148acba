//! The one type every Pathway API answers an error with: a 4xx naming what
//! the caller should fix, a 503 with `Retry-After` when something we depend on
//! is down, or a 500 whose cause goes to the log, never to the caller.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::validation::FieldError;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `validation_failed`.
    pub error: String,
    /// What went wrong and what to do next.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Extra facts for this error (e.g. the open referral of a duplicate).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// An error answer: a 4xx naming what the caller should fix, a 503 when a
/// fault that may heal stopped us, or a 500 whose cause goes to the log,
/// never to the caller.
#[derive(Debug)]
pub enum ApiError {
    Client {
        status: StatusCode,
        body: ErrorBody,
        www_authenticate: bool,
    },
    /// Something this service depends on (its database, NATS, another
    /// service) did not answer: nothing was changed, and the same request may
    /// succeed after `Retry-After` seconds. The cause goes to the log.
    Unavailable {
        what: &'static str,
        cause: anyhow::Error,
    },
    Internal(anyhow::Error),
}

/// Seconds a caller is asked to wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            body: ErrorBody {
                error: code.to_owned(),
                message: message.into(),
                fields: Vec::new(),
                details: serde_json::Map::new(),
            },
            www_authenticate: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422 with every failing field.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.len() {
            1 => "1 field is not valid: correct it and send the request again".to_owned(),
            n => format!("{n} fields are not valid: correct them and send the request again"),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .with_fields(fields)
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        if let Self::Client { body, .. } = &mut self {
            body.fields = fields;
        }
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let Self::Client { body, .. } = &mut self {
            body.details.insert(key.to_owned(), value.into());
        }
        self
    }

    /// 503 with `Retry-After`: `what` (e.g. "the database") did not answer.
    pub fn unavailable(what: &'static str, cause: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable {
            what,
            cause: cause.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Forbidden(_) => Self::forbidden(error.to_string()),
            AuthError::KeysUnavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "identity_provider_unavailable",
                error.to_string(),
            ),
            _ => {
                let code = match error {
                    AuthError::Expired => "token_expired",
                    AuthError::Missing => "token_missing",
                    _ => "token_invalid",
                };
                match Self::new(StatusCode::UNAUTHORIZED, code, error.to_string()) {
                    Self::Client { status, body, .. } => Self::Client {
                        status,
                        body,
                        www_authenticate: true,
                    },
                    other => other,
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Client {
                status,
                body,
                www_authenticate,
            } => {
                let mut response = (status, Json(body)).into_response();
                if www_authenticate {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                // Every 503 is a fault that may heal: say when to try again.
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
                }
                response
            }
            Self::Unavailable { what, cause } => {
                tracing::warn!(error = format!("{cause:#}"), "{what} did not answer");
                let body = ErrorBody {
                    error: "unavailable".into(),
                    message: format!(
                        "{what} did not answer; nothing was changed. Send the same request again in a few seconds"
                    ),
                    fields: Vec::new(),
                    details: serde_json::Map::new(),
                };
                let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
                response
            }
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                let body = ErrorBody {
                    error: "internal".into(),
                    message: "something went wrong on our side; nothing was changed. Try again, and tell the service desk if it persists".into(),
                    fields: Vec::new(),
                    details: serde_json::Map::new(),
                };
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/error.rs"]
mod tests;
