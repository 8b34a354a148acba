//! Vetting's HTTP API for clinicians and board admins, its OpenAPI
//! document, and the clinician web pages (see [`crate::ui`]).

use axum::extract::{DefaultBodyLimit, FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use pathway_common::audit::{AuditQuery, AuditRow};
use pathway_common::auth::{Authenticator, Caller};
use pathway_common::http::{
    ApiError, BearerAuth, ErrorBody, FieldError, JsonBody, ops_routes, track_metrics,
};
use std::sync::Arc;
use utoipa::OpenApi;

use crate::application::{
    ActionResult, InformationRequestBody, InformationRequestView, OutcomeView, ReferralDetail,
    Vetting, Worklist, WorklistQuery, WorklistRow,
};
use crate::domain::outcome::OutcomeRequest;

#[derive(Clone)]
pub struct AppState {
    pub vetting: Vetting,
    pub secure_cookies: bool,
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.vetting.platform.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway vetting",
        description = "The clinicians' worklists: claim a referral, ask the referrer for information, record an outcome. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason. The same service serves the clinician web pages at `/`.",
        version = "1"
    ),
    paths(worklist, referral, claim, release, request_information, record_outcome, correct_outcome, audit_trail),
    components(schemas(
        Worklist, WorklistRow, ReferralDetail, InformationRequestView, OutcomeView, OutcomeRequest,
        ActionResult, InformationRequestBody, AuditRow, ErrorBody, FieldError
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

pub fn router(state: AppState, body_limit: usize) -> Router {
    let metrics = state.vetting.platform.metrics.clone();
    let ops = ops_routes(metrics.clone(), state.vetting.platform.readiness());
    Router::new()
        .route("/v1/boards/{board}/worklist", get(worklist))
        .route("/v1/boards/{board}/audit", get(audit_trail))
        .route("/v1/referrals/{id}", get(referral))
        .route("/v1/referrals/{id}/claim", post(claim))
        .route("/v1/referrals/{id}/release", post(release))
        .route(
            "/v1/referrals/{id}/information-requests",
            post(request_information),
        )
        .route("/v1/referrals/{id}/outcome", post(record_outcome))
        .route("/v1/referrals/{id}/correction", post(correct_outcome))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(crate::ui::routes())
        .fallback(pathway_common::http::not_found_fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
        .merge(ops)
        .layer(middleware::from_fn_with_state(metrics, track_metrics))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(pathway_common::http::request_span),
        )
}

fn query<T: serde::de::DeserializeOwned + Default>(
    raw: Option<Query<T>>,
    error: Option<String>,
) -> Result<T, ApiError> {
    match (raw, error) {
        (Some(Query(value)), _) => Ok(value),
        (None, Some(message)) => Err(ApiError::bad_request(message)),
        (None, None) => Ok(T::default()),
    }
}

#[utoipa::path(
    get, path = "/v1/boards/{board}/worklist", tag = "worklist",
    params(("board" = String, Path, description = "Board code"), WorklistQuery),
    responses(
        (status = 200, description = "Waiting referrals: red flags first, then the longest wait", body = Worklist),
        (status = 400, description = "Unknown status or a malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a clinician of this board", body = ErrorBody),
    )
)]
async fn worklist(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    raw: Result<Query<WorklistQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Worklist>, ApiError> {
    let (raw, error) = split(raw);
    let query = query(raw, error)?;
    Ok(Json(state.vetting.worklist(&caller, &board, &query).await?))
}

fn split<T>(
    raw: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> (Option<Query<T>>, Option<String>) {
    match raw {
        Ok(q) => (Some(q), None),
        Err(rejection) => (
            None,
            Some(format!("the query is not valid: {}", rejection.body_text())),
        ),
    }
}

#[utoipa::path(
    get, path = "/v1/referrals/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral with its clinical content (the view is audited)", body = ReferralDetail),
        (status = 404, description = "No such referral on the caller's boards", body = ErrorBody),
        (status = 503, description = "Intake did not answer in time", body = ErrorBody),
    )
)]
async fn referral(
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
        (status = 409, description = "Another clinician holds it (named), or it is not waiting for vetting", body = ErrorBody),
    )
)]
async fn claim(
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
        (status = 409, description = "The caller does not hold a live claim", body = ErrorBody),
    )
)]
async fn release(
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
        (status = 409, description = "The caller does not hold a live claim", body = ErrorBody),
        (status = 422, description = "No question", body = ErrorBody),
    )
)]
async fn request_information(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<InformationRequestBody>,
) -> Result<Response, ApiError> {
    let answer = state
        .vetting
        .request_information(&caller, &id, &body)
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
        (status = 409, description = "No live claim held by the caller, the claim lapsed, withdrawn, or a different outcome already recorded", body = ErrorBody),
        (status = 422, description = "A required field missing, a field that does not belong to this outcome, or red flags without an override reason", body = ErrorBody),
    )
)]
async fn record_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let (answer, replayed) = state.vetting.record_outcome(&caller, &id, &body).await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(answer)).into_response())
}

#[utoipa::path(
    post, path = "/v1/referrals/{id}/correction", tag = "referrals",
    request_body = OutcomeRequest,
    params(("id" = String, Path)),
    responses(
        (status = 201, description = "A corrected outcome; the decision service supersedes the decision", body = ActionResult),
        (status = 409, description = "No outcome recorded yet", body = ErrorBody),
        (status = 422, description = "As for an outcome", body = ErrorBody),
    )
)]
async fn correct_outcome(
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
        (status = 200, description = "Every view of identifiable data and every action, oldest first", body = Vec<AuditRow>),
        (status = 403, description = "Not an admin of this board", body = ErrorBody),
    )
)]
async fn audit_trail(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    raw: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let (raw, error) = split(raw);
    let query = query(raw, error)?;
    Ok(Json(
        state.vetting.audit_trail(&caller, &board, &query).await?,
    ))
}
