//! A Notify-compatible gateway's status callbacks.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use pathway_common::http::{ApiError, ErrorBody, JsonBody};

use super::types::GatewayCallbackBody;
use crate::application::Notifications;

/// A Notify-compatible gateway's status callback, authenticated with the
/// bearer token configured in the gateway: the `callback_token` of one of the
/// Notify accounts (`[notify]`, `[notify_accounts.*]`), whose deliveries
/// alone it may speak of.
#[utoipa::path(
    post, path = "/v1/callbacks/notify", tag = "callbacks",
    request_body = GatewayCallbackBody,
    responses(
        (status = 204, description = "Kept"),
        (status = 401, description = "Not the configured callback token", body = ErrorBody),
        (status = 404, description = "No delivery with that reference", body = ErrorBody),
        (status = 409, description = "Another notification, or changed meanwhile", body = ErrorBody),
        (status = 422, description = "No reference or no status", body = ErrorBody),
    ),
    security(())
)]
pub async fn notify_callback(
    State(notifications): State<Notifications>,
    headers: HeaderMap,
    JsonBody(callback): JsonBody<GatewayCallbackBody>,
) -> Result<StatusCode, ApiError> {
    let presented = pathway_common::auth::bearer(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .ok();
    notifications
        .gateway_callback(presented, &callback.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
