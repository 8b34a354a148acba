//! `GET /v1/publications/{quarter}`: the fixed quarterly tables, for a
//! calendar quarter that is over and nothing else.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::days;

use super::AppState;
use crate::application::publication::Publication;
use crate::domain::publication::Quarter;

/// The quarterly tables in the layout of Public Health Scotland's
/// *Chronic pain waiting times* publication, per board and for Scotland:
/// patients seen by weeks waited (consultant-led, and all clinicians),
/// patients still waiting at the quarter's end by weeks waited, referrals
/// received and vetted with the outcome mix. Fixed periods only: a
/// calendar quarter in Scottish days, once it is over. Disclosure control
/// runs over the whole set of tables at once (see the description above).
#[utoipa::path(
    get, path = "/v1/publications/{quarter}", tag = "publications",
    params(
        ("quarter" = String, Path, description = "A calendar quarter that is over, `YYYY-Qn` (2026-Q3)"),
    ),
    responses(
        (status = 200, body = Publication),
        (status = 400, description = "`quarter` is not a quarter, or a parameter was sent; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an evaluator for every board", body = ErrorBody),
        (status = 422, description = "The quarter is not over yet; `fields` names `quarter`", body = ErrorBody),
    )
)]
pub(super) async fn get_publication(
    State(state): State<AppState>,
    caller: Caller,
    Path(quarter): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Publication>, ApiError> {
    if let Some(name) = params.keys().next() {
        let reason = "no parameters: publications are for fixed quarters only, named in the path";
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("the parameter {name} is not valid: {reason}"),
        )
        .with_fields(vec![FieldError::new(name, reason.to_owned())]));
    }
    let quarter = Quarter::parse(&quarter).map_err(|reason| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("the parameter quarter is not valid: {reason}"),
        )
        .with_fields(vec![FieldError::new("quarter", reason)])
    })?;
    if !quarter.is_over(days::today()) {
        let reason = format!(
            "{} is not over until the end of {} (Scottish time): its tables are not fixed yet",
            quarter.label, quarter.last
        );
        return Err(ApiError::validation(vec![FieldError::new(
            "quarter", reason,
        )]));
    }
    Ok(Json(state.analytics.publication(&caller, &quarter).await?))
}
