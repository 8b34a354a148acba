//! The notification service's HTTP API: deliveries and their state, a retry
//! for a failed one, OpenAPI, health.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use pathway_common::auth::{Authenticator, Caller};
use pathway_common::http::{ApiError, ErrorBody, FieldError, ops_routes, track_metrics};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::application::{DeliveryList, DeliveryView, GatewayCallback, Notifications};
use crate::domain::{ChannelKind, Recipient, Status};

#[derive(Clone)]
pub struct AppState {
    pub notifications: Notifications,
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.notifications.platform.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway notification",
        description = "Who was told what about a referral, on which channel, and whether it reached them: the referrer, the patient and the receiving service. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(referral_deliveries, list_deliveries, retry_delivery, notify_callback),
    components(schemas(DeliveryList, DeliveryView, GatewayCallback, Recipient, ChannelKind, Status, ErrorBody, FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

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

pub fn router(state: AppState) -> Router {
    let metrics = state.notifications.platform.metrics.clone();
    let ops = ops_routes(metrics.clone(), state.notifications.platform.readiness());
    Router::new()
        .route("/v1/referrals/{id}/deliveries", get(referral_deliveries))
        .route("/v1/deliveries", get(list_deliveries))
        .route("/v1/deliveries/{id}/retry", post(retry_delivery))
        .route("/v1/callbacks/notify", post(notify_callback))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(pathway_common::http::not_found_fallback)
        .with_state(state)
        .merge(ops)
        .layer(middleware::from_fn_with_state(metrics, track_metrics))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(make_span))
}

fn make_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let span =
        tracing::info_span!("http", method = %request.method(), path = %request.uri().path());
    pathway_common::telemetry::set_parent_from_http(&span, request.headers());
    span
}

/// A referral's deliveries, oldest first.
#[utoipa::path(
    get, path = "/v1/referrals/{id}/deliveries", tag = "deliveries",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither a board admin nor a clinician", body = ErrorBody),
        (status = 404, description = "No deliveries for a referral this token may see", body = ErrorBody),
    )
)]
async fn referral_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(state.notifications.deliveries_of(&caller, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ListQuery {
    /// `planned`, `sending`, `sent` or `failed`; every status when absent.
    status: Option<String>,
    /// One of the token's boards; all of them when absent.
    board: Option<String>,
}

/// Deliveries of the token's boards, newest first (at most 500).
#[utoipa::path(
    get, path = "/v1/deliveries", tag = "deliveries",
    params(ListQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin, or not of that board", body = ErrorBody),
        (status = 422, description = "An unknown status", body = ErrorBody),
    )
)]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(
        state
            .notifications
            .deliveries_by_status(&caller, query.status.as_deref(), query.board.as_deref())
            .await?,
    ))
}

/// Send a failed delivery again; it goes back to `planned`.
#[utoipa::path(
    post, path = "/v1/deliveries/{id}/retry", tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, body = DeliveryView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin", body = ErrorBody),
        (status = 404, description = "No delivery this token may see", body = ErrorBody),
        (status = 409, description = "Not failed, or with nowhere to go", body = ErrorBody),
    )
)]
async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(http::StatusCode, Json<DeliveryView>), ApiError> {
    let view = state.notifications.retry(&caller, &id).await?;
    Ok((http::StatusCode::ACCEPTED, Json(view)))
}

/// True when `presented` is the configured token, compared in constant time.
fn token_matches(presented: &str, expected: &str) -> bool {
    use hmac::{Hmac, Mac};
    let digest = |text: &str| {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(b"pathway-notify-callback")
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(text.as_bytes());
        mac
    };
    let expected = digest(expected).finalize().into_bytes();
    digest(presented).verify_slice(&expected).is_ok()
}

/// A Notify-compatible gateway's status callback, authenticated with the
/// bearer token configured in the gateway: the `callback_token` of one of the
/// Notify accounts (`[notify]`, `[notify_accounts.*]`), whose deliveries
/// alone it may speak of.
#[utoipa::path(
    post, path = "/v1/callbacks/notify", tag = "callbacks",
    request_body = GatewayCallback,
    responses(
        (status = 204, description = "Kept"),
        (status = 401, description = "Not the configured callback token", body = ErrorBody),
        (status = 404, description = "No delivery with that reference", body = ErrorBody),
        (status = 422, description = "No reference or no status", body = ErrorBody),
    ),
    security(())
)]
async fn notify_callback(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    pathway_common::http::JsonBody(callback): pathway_common::http::JsonBody<GatewayCallback>,
) -> Result<http::StatusCode, ApiError> {
    use secrecy::ExposeSecret;
    let presented = pathway_common::auth::bearer(
        headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .ok();
    // Every account's token is compared, so the time taken says nothing of
    // which (if any) matched.
    let accounts: Vec<&str> = state
        .notifications
        .settings
        .all_notify_accounts()
        .filter(|(_, account)| match (&account.callback_token, presented) {
            (Some(expected), Some(presented)) => token_matches(presented, expected.expose_secret()),
            _ => false,
        })
        .map(|(name, _)| name)
        .collect();
    if accounts.is_empty() {
        return Err(ApiError::new(
            http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the callback token configured for this gateway: `Authorization: Bearer <token>`",
        ));
    }
    state
        .notifications
        .gateway_callback(&callback, &accounts)
        .await?;
    Ok(http::StatusCode::NO_CONTENT)
}
