//! `POST /v1/rebuild` starts a rebuild of every fact from the stream in the
//! running service; `GET /v1/rebuild` follows it.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody};

use super::AppState;
use crate::application::rebuild::RebuildStatus;

/// How a rebuild starts.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub(super) struct RebuildParams {
    /// Ignore the snapshots and read the stream from the first message it
    /// still holds, accepting that the facts of messages aged out before it
    /// are lost.
    from_start: bool,
}

/// Forget every fact built from the stream and build them again from the
/// latest snapshot of the facts and the stream after it (or, `from_start`,
/// from what the stream holds), in the background: the live consumer stops
/// meanwhile and carries on after. Metrics answer 503 until it is done;
/// imported baselines are kept. Refused (409, `rebuild_would_lose_facts`)
/// when the stream no longer holds messages that no snapshot covers.
#[utoipa::path(
    post, path = "/v1/rebuild", tag = "rebuild",
    params(RebuildParams),
    responses(
        (status = 202, description = "Started; follow it with GET /v1/rebuild", body = RebuildStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin for every board (`*`)", body = ErrorBody),
        (status = 409, description = "A rebuild is running already, or it would lose facts (the reason says which messages and how to go on)", body = ErrorBody),
    )
)]
pub(super) async fn start_rebuild(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RebuildParams>,
) -> Result<(StatusCode, Json<RebuildStatus>), ApiError> {
    let started = state
        .analytics
        .begin_rebuild(&caller, params.from_start)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// How the last rebuild went, or how far the running one is.
#[utoipa::path(
    get, path = "/v1/rebuild", tag = "rebuild",
    responses(
        (status = 200, body = RebuildStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin for every board (`*`)", body = ErrorBody),
    )
)]
pub(super) async fn rebuild_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RebuildStatus>, ApiError> {
    Ok(Json(state.analytics.rebuild_status(&caller)?))
}
