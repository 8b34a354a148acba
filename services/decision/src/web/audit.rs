//! `/v1/boards/{board}/audit`: the board's audit trail in this service.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use pathway_common::audit::{AuditQuery, AuditRow};
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody};
use pathway_proto::BoardCode;

use crate::application::Decisions;

/// The board's audit trail in the decision service: every decision recorded
/// and every decision read.
#[utoipa::path(
    get, path = "/v1/boards/{board}/audit", tag = "audit",
    params(("board" = String, Path), AuditQuery),
    responses(
        (status = 200, description = "Who did or read what, when, from where and why, oldest first", body = Vec<AuditRow>),
        (status = 400, description = "A malformed query", body = ErrorBody),
        (status = 403, description = "Not an admin of this board", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    )
)]
pub async fn audit_trail(
    State(decisions): State<Decisions>,
    caller: Caller,
    Path(board): Path<String>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    let board = BoardCode::parse(&board).map_err(ApiError::not_found)?;
    Ok(Json(decisions.audit_trail(&caller, board, &query).await?))
}
