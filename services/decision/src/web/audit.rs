//! `/v1/boards/{board}/audit`: the board's audit trail in this service.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use pathway_common::audit::{AuditPage, AuditQuery};
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody};
use pathway_common::validation::describe;
use pathway_proto::BoardCode;

use crate::application::Decisions;

/// The board's audit trail in the decision service: every decision recorded
/// and every decision read.
#[utoipa::path(
    get, path = "/v1/boards/{board}/audit", tag = "audit",
    params(("board" = String, Path), AuditQuery),
    responses(
        (status = 200, description = "A page of who did or read what, when, from where and why, oldest first", body = AuditPage),
        (status = 400, description = "A limit or after that is not valid, or a malformed query", body = ErrorBody),
        (status = 403, description = "Not an admin of this board", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    )
)]
pub async fn audit_trail(
    State(decisions): State<Decisions>,
    caller: Caller,
    Path(board): Path<String>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    let query = query.parse().map_err(|fields| {
        ApiError::bad_request(format!("the query is not valid: {}", describe(&fields)))
            .with_fields(fields)
    })?;
    let board = BoardCode::parse(&board).map_err(ApiError::not_found)?;
    Ok(Json(decisions.audit_trail(&caller, board, &query).await?))
}
