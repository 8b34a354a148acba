//! The decision service's HTTP API: a referral's decisions, OpenAPI, health.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::get;
use axum::{Json, Router, middleware};
use pathway_common::audit::{AuditQuery, AuditRow};
use pathway_common::auth::{Authenticator, Caller};
use pathway_common::http::{
    ApiError, BearerAuth, ErrorBody, FieldError, ops_routes, track_metrics,
};
use utoipa::OpenApi;

use crate::application::{DecisionHistory, DecisionView, Decisions, OptInView, OutcomeView};

#[derive(Clone)]
pub struct AppState {
    pub decisions: Decisions,
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.decisions.platform.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway decision",
        description = "The decisions made on referrals to the chronic pain service: each vetting outcome, with corrections kept beside what they corrected. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(get_decision, audit_trail),
    components(schemas(DecisionHistory, DecisionView, OutcomeView, OptInView, AuditRow, ErrorBody, FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    let metrics = state.decisions.platform.metrics.clone();
    let ops = ops_routes(metrics.clone(), state.decisions.platform.readiness());
    Router::new()
        .route("/v1/referrals/{id}/decision", get(get_decision))
        .route("/v1/boards/{board}/audit", get(audit_trail))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(pathway_common::http::not_found_fallback)
        .with_state(state)
        .merge(ops)
        .layer(middleware::from_fn_with_state(metrics, track_metrics))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(pathway_common::http::request_span),
        )
}

/// A referral's current decision and the decisions it superseded.
#[utoipa::path(
    get, path = "/v1/referrals/{id}/decision", tag = "decisions",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = DecisionHistory),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither a clinician nor a referrer", body = ErrorBody),
        (status = 404, description = "No decision on a referral that this token may see", body = ErrorBody),
        (status = 503, description = "Intake cannot confirm the referrer now", body = ErrorBody),
    )
)]
async fn get_decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DecisionHistory>, ApiError> {
    Ok(Json(state.decisions.decision_history(&caller, &id).await?))
}

/// The board's audit trail in the decision service: every decision recorded
/// and every decision read.
#[utoipa::path(
    get, path = "/v1/boards/{board}/audit", tag = "audit",
    params(("board" = String, Path), AuditQuery),
    responses(
        (status = 200, description = "Who did or read what, when, from where and why, oldest first", body = Vec<AuditRow>),
        (status = 400, description = "A malformed query", body = ErrorBody),
        (status = 403, description = "Not an admin of this board", body = ErrorBody),
    )
)]
async fn audit_trail(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    Ok(Json(
        pathway_common::audit::trail(&state.decisions.platform.db, &caller, &board, &query).await?,
    ))
}
