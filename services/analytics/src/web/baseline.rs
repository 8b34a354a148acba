//! `POST /v1/baseline`: a board's referrals from before it adopted the
//! pathway, from its existing system's CSV file.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::BoardCode;
use pathway_proto::board::BOARD_CODES;

use super::AppState;
use crate::application::baseline::ImportReport;

/// `POST /v1/baseline`'s query string.
#[derive(serde::Deserialize)]
pub(super) struct BaselineParams {
    board: Option<String>,
}

/// Load a board's referrals from before it adopted the pathway, from its
/// existing system: a CSV file with a header row and the columns
/// `reference` and `received_on` (required), `vetted_on`, `outcome`,
/// `priority`, `withdrawn_on`, `age_band`, `sex`, `urban_rural_class`,
/// `simd_quintile` (optional; dates `YYYY-MM-DD`, Scottish days, codes as in the events).
/// No cell may start with `=`, `+`, `-`, `@`, a tab or a carriage return
/// (even after spaces), which a spreadsheet could run as a formula.
/// Every row is checked first: one bad row rejects the whole file, and the
/// answer names every problem by line and column; a good file is loaded in
/// one transaction, replacing rows loaded before under the same reference.
/// Imported referrals count on the standard route.
#[utoipa::path(
    post, path = "/v1/baseline", tag = "baseline",
    params(("board" = String, Query, description = "The board the file is for")),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, body = ImportReport),
        (status = 400, description = "No or an unknown board", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin of that board", body = ErrorBody),
        (status = 422, description = "Rows rejected: each `fields[].field` is `line N.column`; nothing was loaded", body = ErrorBody),
    )
)]
pub(super) async fn import_baseline(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BaselineParams>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let board = BoardCode::parse(params.board.as_deref().unwrap_or_default()).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!(
                "the parameter board is not valid: expected one of {}",
                BOARD_CODES.join(", ")
            ),
        )
        .with_fields(vec![FieldError::new("board", "a board code")])
    })?;
    Ok(Json(
        state
            .analytics
            .import_baseline(&caller, board, &body)
            .await?,
    ))
}
