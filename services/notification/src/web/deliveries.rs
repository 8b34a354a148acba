//! Deliveries: a referral's, by status, and a retry for a failed one.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody};

use super::types::{DeliveryList, DeliveryPage, DeliveryView, ListParams, ListQuery};
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

/// A page of the deliveries of the token's boards, newest first.
#[utoipa::path(
    get, path = "/v1/deliveries", tag = "deliveries",
    params(ListParams),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = DeliveryPage),
        (status = 400, description = "The query string, `limit` or `before` is not valid", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin, or not of that board", body = ErrorBody),
        (status = 422, description = "An unknown status or board", body = ErrorBody),
    )
)]
pub async fn list_deliveries(
    State(notifications): State<Notifications>,
    caller: Caller,
    raw: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let Query(raw) = raw.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    let query = ListQuery::parse(&raw).map_err(|fields| {
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        let message = match names.as_slice() {
            [one] => format!("the query parameter {one} is not valid"),
            many => format!("the query parameters {} are not valid", many.join(" and ")),
        };
        ApiError::bad_request(message).with_fields(fields)
    })?;
    let page = notifications
        .deliveries_by_status(
            &caller,
            query.status.as_deref(),
            query.board.as_deref(),
            query.page,
        )
        .await?;
    Ok(Json(page.into()))
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

/// What notification emptied under a patient's erasure request, referral
/// by referral.
#[utoipa::path(
    get, path = "/v1/erasures/{id}", tag = "patients",
    params(("id" = String, Path, description = "The erasure request's id, as intake gave it")),
    responses(
        (status = 200, body = pathway_common::erasure::ErasureReport),
        (status = 403, description = "Not a board admin", body = ErrorBody),
        (status = 404, description = "Notification has not acted on the request for your boards (yet)", body = ErrorBody),
    )
)]
pub async fn erasure_report(
    State(notifications): State<Notifications>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<pathway_common::erasure::ErasureReport>, ApiError> {
    Ok(Json(notifications.erasure_report(&caller, &id).await?))
}
