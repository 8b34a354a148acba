//! `GET /v1/waits` and `/v1/waits.csv`: waits to the first appointment as
//! Public Health Scotland counts them, for boards, a date range and a
//! period length, as JSON or CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pathway_common::auth::Caller;
use pathway_common::csv_cell;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::days;

use super::AppState;
use super::metrics::parse_query;
use crate::application::phs::PhsReport;

async fn report(
    state: &AppState,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Result<PhsReport, ApiError> {
    if params.contains_key("split") {
        let reason = "not offered for waits to first appointment: expected boards, from, to or by";
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("the parameter split is not valid: {reason}"),
        )
        .with_fields(vec![FieldError::new("split", reason.to_owned())]));
    }
    let query = parse_query(caller, params, days::today())?;
    Ok(state.analytics.phs_waits(caller, &query).await?)
}

/// Waits to the first appointment as Public Health Scotland's "Chronic
/// pain waiting times" counts them: patients seen in each period by weeks
/// waited, for consultant-led clinics and for every clinician; patients
/// still waiting at each period's last day by weeks waited and by where
/// they are; days from decision to first appointment by clinic type.
/// Definitions are in the description above.
///
/// Management information, for a board's own use in running its service:
/// any range may be asked for, so these figures are not for publication.
/// The official tables are `/v1/publications/{quarter}`.
#[utoipa::path(
    get, path = "/v1/waits", tag = "metrics",
    params(
        ("boards" = Option<String>, Query, description = "As for /v1/metrics"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD, a Scottish day"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD, a Scottish day (default today in Scotland)"),
        ("by" = Option<String>, Query, description = "`week`, `month` (default) or `quarter` (PHS publishes quarters)"),
    ),
    responses(
        (status = 200, body = PhsReport),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for", body = ErrorBody),
    )
)]
pub(super) async fn get_waits(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<PhsReport>, ApiError> {
    Ok(Json(report(&state, &caller, &params).await?))
}

/// The same rows as `/v1/waits`, as CSV: one line per period, nested
/// fields joined by `_` (`seen_consultant_led_weeks_0_12`), `*` for a
/// suppressed value, empty for no value.
#[utoipa::path(
    get, path = "/v1/waits.csv", tag = "metrics",
    params(
        ("boards" = Option<String>, Query, description = "As for /v1/waits"),
        ("from" = String, Query, description = "As for /v1/waits"),
        ("to" = Option<String>, Query, description = "As for /v1/waits"),
        ("by" = Option<String>, Query, description = "As for /v1/waits"),
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for", body = ErrorBody),
    )
)]
pub(super) async fn get_waits_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let report = report(&state, &caller, &params).await?;
    Ok(super::csv_attachment("pathway-waits.csv", to_csv(&report)?))
}

fn to_csv(report: &PhsReport) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, cells: Vec<String>| {
        writer.write_record(cells.iter().map(|c| csv_cell::escape(c).into_owned()))
    };
    let mut head = vec![
        "period".to_owned(),
        "period_first".into(),
        "period_last".into(),
    ];
    if let Some(row) = report.rows.first() {
        head.extend(row.cells().into_iter().map(|(column, _, _)| column));
    }
    write(&mut writer, head)?;
    for row in &report.rows {
        let mut record = vec![
            row.period.clone(),
            row.period_first.to_string(),
            row.period_last.to_string(),
        ];
        for (_, field, value) in row.cells() {
            record.push(match value {
                Some(v) => v,
                None if row.suppressed.contains(&field) => "*".to_owned(),
                None => String::new(),
            });
        }
        write(&mut writer, record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
