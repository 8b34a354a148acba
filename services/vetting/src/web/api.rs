//! The JSON API for clinicians and board admins: each handler parses its
//! request, calls one use case and answers with its outcome.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pathway_common::audit::{AuditPage, AuditQuery};
use pathway_common::auth::Caller;
use pathway_common::erasure::ErasureReport;
use pathway_common::http::{ApiError, ErrorBody, JsonBody};

use super::AppState;
use super::types::{InformationRequestBody, WorklistQuery, bad_query, parse_board, query};
use crate::application::outcome::Recorded;
use crate::application::{ActionResult, ReferralDetail, Worklist};
use crate::domain::outcome::OutcomeRequest;

#[utoipa::path(
    get, path = "/v1/boards/{board}/worklist", tag = "worklist",
    params(("board" = String, Path, description = "Board code"), WorklistQuery),
    responses(
        (status = 200, description = "A page of waiting referrals: red flags first, then the longest wait", body = Worklist),
        (status = 400, description = "Unknown status, a limit or after that is not valid, or a malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a clinician of this board", body = ErrorBody),
        (status = 404, description = "No board with this code", body = ErrorBody),
    )
)]
pub async fn worklist(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    raw: Result<Query<WorklistQuery>, QueryRejection>,
) -> Result<Json<Worklist>, ApiError> {
    let query = query(raw)?;
    let filter = query.filter()?;
    let page = query.page()?;
    let board = parse_board(&board)?;
    Ok(Json(
        state
            .vetting
            .worklist(&caller, board, &filter, &page)
            .await?,
    ))
}

#[utoipa::path(
    get, path = "/v1/referrals/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral with its clinical content (the view is audited)", body = ReferralDetail),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 503, description = "Intake did not answer in time", body = ErrorBody),
    )
)]
pub async fn referral(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReferralDetail>, ApiError> {
    Ok(Json(state.vetting.referral(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/claim", tag = "referrals",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Claimed (or renewed) until `lease_expires_at`", body = ActionResult),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 409, description = "Another clinician holds it (named), or it is not waiting for vetting", body = ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ActionResult>, ApiError> {
    Ok(Json(state.vetting.claim(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/release", tag = "referrals",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Back on the worklist", body = ActionResult),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 409, description = "The caller does not hold a live claim", body = ErrorBody),
    )
)]
pub async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ActionResult>, ApiError> {
    Ok(Json(state.vetting.release(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/information-requests", tag = "referrals",
    request_body = InformationRequestBody,
    params(("id" = String, Path)),
    responses(
        (status = 201, description = "The referrer is asked; the clock pauses", body = ActionResult),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 409, description = "The caller does not hold a live claim", body = ErrorBody),
        (status = 422, description = "No question", body = ErrorBody),
    )
)]
pub async fn request_information(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<InformationRequestBody>,
) -> Result<Response, ApiError> {
    let answer = state
        .vetting
        .request_information(&caller, &id, body.question.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/outcome", tag = "referrals",
    request_body = OutcomeRequest,
    params(("id" = String, Path)),
    responses(
        (status = 201, description = "Recorded; `vetting.completed` is published", body = ActionResult),
        (status = 200, description = "The same outcome was already recorded by the caller: nothing new written", body = ActionResult),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 409, description = "No live claim held by the caller, the claim lapsed, withdrawn, or a different outcome already recorded", body = ErrorBody),
        (status = 422, description = "A required field missing, a field that does not belong to this outcome, or red flags without an override reason", body = ErrorBody),
    )
)]
pub async fn record_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OutcomeRequest>,
) -> Result<Response, ApiError> {
    Ok(
        match state.vetting.record_outcome(&caller, &id, &body).await? {
            Recorded::Created(answer) => (StatusCode::CREATED, Json(answer)).into_response(),
            Recorded::Replayed(answer) => (StatusCode::OK, Json(answer)).into_response(),
        },
    )
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/correction", tag = "referrals",
    request_body = OutcomeRequest,
    params(("id" = String, Path)),
    responses(
        (status = 201, description = "A corrected outcome; the decision service supersedes the decision", body = ActionResult),
        (status = 403, description = "Not a clinician", body = ErrorBody),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 409, description = "No outcome recorded yet", body = ErrorBody),
        (status = 422, description = "As for an outcome", body = ErrorBody),
    )
)]
pub async fn correct_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let answer = state.vetting.correct_outcome(&caller, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[utoipa::path(
    get, path = "/v1/boards/{board}/audit", tag = "audit",
    params(("board" = String, Path), AuditQuery),
    responses(
        (status = 200, description = "A page of every view of identifiable data and every action, oldest first", body = AuditPage),
        (status = 400, description = "A limit or after that is not valid, or a malformed query", body = ErrorBody),
        (status = 403, description = "Not an admin of this board", body = ErrorBody),
        (status = 404, description = "No board with this code", body = ErrorBody),
    )
)]
pub async fn audit_trail(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    raw: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let query = query::<AuditQuery>(raw)?.parse().map_err(bad_query)?;
    let board = parse_board(&board)?;
    Ok(Json(
        state.vetting.audit_trail(&caller, board, &query).await?,
    ))
}

#[utoipa::path(
    get, path = "/v1/erasures/{id}", tag = "patients",
    params(("id" = String, Path, description = "The erasure request's id, as intake gave it")),
    responses(
        (status = 200, description = "What vetting removed under the request, referral by referral", body = ErasureReport),
        (status = 403, description = "Not a board admin", body = ErrorBody),
        (status = 404, description = "Vetting has not acted on the request for your boards (yet)", body = ErrorBody),
    )
)]
pub async fn erasure_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ErasureReport>, ApiError> {
    Ok(Json(state.vetting.erasure_report(&caller, &id).await?))
}
