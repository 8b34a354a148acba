//! What every Pathway API has in common: the one place errors become HTTP
//! answers, JSON bodies that fail with the field and the reason, health,
//! readiness and metrics endpoints, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthError;
use crate::metrics::{HttpLabels, Metrics, RouteLabels};

/// One failing field and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `patient.chi`.
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

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

/// An error answer: a 4xx naming what the caller should fix, or a 500 whose
/// cause goes to the log, never to the caller.
#[derive(Debug)]
pub enum ApiError {
    Client {
        status: StatusCode,
        body: ErrorBody,
        www_authenticate: bool,
    },
    Internal(anyhow::Error),
}

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

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(error.into())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
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

/// A JSON request body whose failures are answered with the field and the
/// reason: 415 for another content type, 413 over the size limit, 400 for a
/// body that is not JSON, 422 for a field of the wrong type or missing.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            )
            .with_fields(vec![FieldError::new(
                "Content-Type",
                "must be application/json",
            )]));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the body is larger than this endpoint accepts",
                )
                .with_fields(vec![FieldError::new("body", "over the size limit")])
            } else {
                ApiError::bad_request(format!("cannot read the body: {rejection}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parse JSON, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_not_json",
            "the body is empty; send a JSON object",
        )
        .with_fields(vec![FieldError::new("body", "empty")]));
    }
    // First: is it JSON at all?
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_not_json",
            "the body is not valid JSON",
        )
        .with_fields(vec![FieldError::new("body", format!("not JSON: {e}"))])
    })?;
    if !value.is_object() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    // Then: does it have the right shape?
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::validation(vec![FieldError::new(field, e.into_inner().to_string())])
    })
}

/// Checks that a service's dependencies answer, for `/readyz`.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct OpsState {
    metrics: Metrics,
    ready: ReadinessCheck,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn ops_routes(metrics: Metrics, ready: ReadinessCheck) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "alive"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(OpsState { metrics, ready })
}

async fn readyz(State(state): State<OpsState>) -> Response {
    match (state.ready)().await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "not_ready", "reason": reason})),
        )
            .into_response(),
    }
}

async fn metrics_text(State(state): State<OpsState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Middleware recording request counts and latencies by matched route.
pub async fn track_metrics(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let response = next.run(request).await;
    metrics
        .http_duration
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Declares the bearer token (JWT) every Pathway API asks for in an OpenAPI
/// document: `#[openapi(modifiers(&BearerAuth), security(("bearer" = [])))]`.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The span of one HTTP request, continuing the caller's trace when it sends
/// one (`traceparent`): for `TraceLayer::make_span_with`.
pub fn request_span(request: &Request) -> tracing::Span {
    let span =
        tracing::info_span!("http", method = %request.method(), path = %request.uri().path());
    crate::telemetry::set_parent_from_http(&span, request.headers());
    span
}

/// JSON 404 for paths no route matches.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found("no such endpoint: see /openapi.json for what this service answers")
}

/// Serve `router` on `listener` until `shutdown`, then let requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}
