//! Deliveries: a referral's, by status, and a retry for a failed one.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody};

use super::types::{DeliveryList, DeliveryView, ListQuery};
use crate::application::Notifications;

/// A referral's deliveries, oldest first.
#[utoipa::path(
    get, path = "/v1/referrals/{id}/deliveries", tag = "deliveries",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither a board admin nor a clinician", body = ErrorBody),
        (status = 404, description = "No deliveries for a referral this token may see", body = ErrorBody),
        (status = 422, description = "The id is not a UUID", body = ErrorBody),
    )
)]
pub async fn referral_deliveries(
    State(notifications): State<Notifications>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    let deliveries = notifications.deliveries_of(&caller, &id).await?;
    Ok(Json(deliveries.into()))
}

/// Deliveries of the token's boards, newest first (at most 500).
#[utoipa::path(
    get, path = "/v1/deliveries", tag = "deliveries",
    params(ListQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin, or not of that board", body = ErrorBody),
        (status = 422, description = "An unknown status or board", body = ErrorBody),
    )
)]
pub async fn list_deliveries(
    State(notifications): State<Notifications>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let deliveries = notifications
        .deliveries_by_status(&caller, query.status.as_deref(), query.board.as_deref())
        .await?;
    Ok(Json(deliveries.into()))
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
        (status = 503, description = "Intake or the database did not answer", body = ErrorBody),
    )
)]
pub async fn retry_delivery(
    State(notifications): State<Notifications>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let planned = notifications.retry(&caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(planned.into())))
}
