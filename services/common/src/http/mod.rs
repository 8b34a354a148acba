//! What every Pathway API has in common: the one place errors become HTTP
//! answers ([`error`]), JSON bodies that fail with the field and the reason
//! ([`json`]), the caller from the bearer token ([`caller`]), the answers
//! every OpenAPI document declares for that plumbing ([`openapi`]), health,
//! readiness and metrics ([`ops`]), the dead letters every service lists
//! ([`dead_letters`]), and the tail every service's router ends
//! with, served with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, middleware};
use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::metrics::Metrics;
use crate::settings::HttpSettings;

pub mod caller;
pub mod cookie;
pub mod dead_letters;
pub mod error;
pub mod forwarded;
pub mod headers;
pub mod json;
pub mod openapi;
pub mod ops;
pub mod rate_limit;

pub use crate::validation::FieldError;
pub use error::{ApiError, ErrorBody};
pub use json::{JsonBody, parse_json};
pub use openapi::CommonAnswers;
pub use ops::{ReadinessCheck, ops_routes, track_metrics};

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

/// Stop a request that takes longer than `limit` (dropping it rolls back
/// its transaction) and answer 503 with `Retry-After`.
async fn time_limit(limit: Duration, request: Request, next: Next) -> Response {
    let route = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%route, ?limit, "a request took too long: stopped");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} ms and was stopped; send it again in a few seconds",
                    limit.as_millis()
                ),
            )
            .into_response()
        }
    }
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

/// The tail of every service's router: the operational routes, the dead
/// letters in `db` ([`dead_letters`]), a JSON 404
/// for unknown paths, the body limit, the time limit
/// ([`HttpSettings::request_timeout_ms`]), the authenticator the [`Caller`]
/// extractor reads, the requests per token ([`rate_limit`]), request
/// metrics, the headers every answer carries
/// ([`headers`]) and a span per request.
///
/// [`Caller`]: crate::auth::Caller
pub fn finish(
    routes: Router,
    metrics: Metrics,
    ready: ReadinessCheck,
    auth: Arc<Authenticator>,
    db: sea_orm::DatabaseConnection,
    http: &HttpSettings,
) -> Router {
    let timeout = Duration::from_millis(http.request_timeout_ms.max(1));
    let routes = routes
        .merge(dead_letters::routes(db))
        .fallback(not_found_fallback)
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(middleware::from_fn(move |request, next| {
            time_limit(timeout, request, next)
        }))
        .merge(ops_routes(metrics.clone(), ready))
        .layer(Extension(auth))
        .layer(Extension(forwarded::TrustedProxies::new(
            http.trusted_proxies.clone(),
        )))
        .layer(middleware::from_fn_with_state(
            rate_limit::RateLimit::new(http),
            rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(metrics, track_metrics));
    headers::secure(routes)
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
}
