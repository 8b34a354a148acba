//! `GET /v1/metrics` and `/v1/metrics.csv`: the query string read into a
//! [`MetricsQuery`], naming the parameter at fault, and the report as JSON
//! or CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::board::BOARD_CODES;
use pathway_proto::{BoardCode, days};

use super::AppState;
use super::csv::to_csv;
use crate::application::metrics::MetricsReport;
use crate::domain::metrics::{MetricsQuery, Split};
use crate::domain::period::{Granularity, periods};

/// At most this many periods in one answer (20 years of weeks).
const MAX_PERIODS: usize = 1100;

/// Read the query string, naming the parameter at fault.
pub fn parse_query(
    caller: &Caller,
    params: &BTreeMap<String, String>,
    today: NaiveDate,
) -> Result<MetricsQuery, ApiError> {
    let bad = |field: &str, reason: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("the parameter {field} is not valid: {reason}"),
        )
        .with_fields(vec![FieldError::new(field, reason)])
    };
    if let Some(unknown) = params
        .keys()
        .find(|k| !["boards", "from", "to", "by", "split"].contains(&k.as_str()))
    {
        return Err(bad(
            unknown,
            "unknown parameter: expected boards, from, to, by or split".into(),
        ));
    }
    let boards: Vec<BoardCode> = match params.get("boards").map(String::as_str) {
        None | Some("all") => BoardCode::all()
            .filter(|b| caller.may_act_for(b.code()))
            .collect(),
        Some(list) => {
            let mut boards = Vec::new();
            for code in list.split(',').map(str::trim) {
                let board = BoardCode::parse(code).map_err(|_| {
                    bad(
                        "boards",
                        format!(
                            "unknown board {code:?}: expected `all` or board codes separated by commas, from {}",
                            BOARD_CODES.join(", ")
                        ),
                    )
                })?;
                if !boards.contains(&board) {
                    boards.push(board);
                }
            }
            boards
        }
    };
    if boards.is_empty() {
        return Err(ApiError::forbidden("the token may not act for any board"));
    }
    let date = |field: &str| -> Result<Option<NaiveDate>, ApiError> {
        params
            .get(field)
            .map(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| bad(field, format!("{text:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    };
    let from = date("from")?.ok_or_else(|| bad("from", "required: a date YYYY-MM-DD".into()))?;
    let to = date("to")?.unwrap_or(today);
    if to < from {
        return Err(bad("to", format!("{to} is before from ({from})")));
    }
    let by = match params.get("by") {
        None => Granularity::Month,
        Some(text) => Granularity::parse(text)
            .ok_or_else(|| bad("by", format!("{text:?}: expected week, month or quarter")))?,
    };
    let split = match params.get("split").map(String::as_str) {
        None | Some("") | Some("none") => None,
        Some(text) => Some(Split::parse(text).ok_or_else(|| {
            bad(
                "split",
                format!("{text:?}: expected one of {}", Split::NAMES.join(", ")),
            )
        })?),
    };
    // Count the days first, so a silly range is refused before its periods
    // are laid out.
    if (to - from).num_days() > 7 * MAX_PERIODS as i64 || periods(from, to, by).len() > MAX_PERIODS
    {
        return Err(bad(
            "from",
            format!(
                "the range holds more than {MAX_PERIODS} periods: ask for fewer or coarser ones"
            ),
        ));
    }
    Ok(MetricsQuery {
        boards,
        from,
        to,
        by,
        split,
        as_of: today,
    })
}

/// The report for the query string `params`.
pub async fn report(
    state: &AppState,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Result<MetricsReport, ApiError> {
    let query = parse_query(caller, params, days::today())?;
    Ok(state.analytics.metrics(caller, &query).await?)
}

/// The metrics for boards, a date range and a period length, optionally split.
///
/// Every day here is a Scottish day (Europe/London: GMT in winter, BST in
/// summer), as Public Health Scotland counts: a referral received at 00:30
/// on a summer night falls on that day, and in that day's week, month and
/// quarter.
///
/// Management information, for a board's own use in running its service:
/// any range may be asked for, so these figures are not for publication.
/// The official tables are `/v1/publications/{quarter}`.
#[utoipa::path(
    get, path = "/v1/metrics", tag = "metrics",
    params(
        ("boards" = Option<String>, Query, description = "Board codes separated by commas, or `all` (the default: every board the token may act for)"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD: a Scottish day (Europe/London), from midnight on Scotland's clock"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD, a Scottish day to its end (default today in Scotland)"),
        ("by" = Option<String>, Query, description = "`week` (ISO, Monday to Sunday), `month` (default) or `quarter`"),
        ("split" = Option<String>, Query, description = "`adoption` (per board, before/after switch-on), `urban_rural`, `simd`, `age_band`, `sex` or `priority` (an accept's priority: the waits to decision by priority)"),
    ),
    responses(
        (status = 200, body = MetricsReport),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for", body = ErrorBody),
    )
)]
pub(super) async fn get_metrics(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<MetricsReport>, ApiError> {
    Ok(Json(report(&state, &caller, &params).await?))
}

/// The same rows as `/v1/metrics`, as CSV: one line per row, outcome counts
/// as `outcome_<code>` columns, `*` for a suppressed value, empty for no value.
/// A cell a spreadsheet could run as a formula (one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) is written after a single quote.
#[utoipa::path(
    get, path = "/v1/metrics.csv", tag = "metrics",
    params(
        ("boards" = Option<String>, Query, description = "As for /v1/metrics"),
        ("from" = String, Query, description = "As for /v1/metrics"),
        ("to" = Option<String>, Query, description = "As for /v1/metrics"),
        ("by" = Option<String>, Query, description = "As for /v1/metrics"),
        ("split" = Option<String>, Query, description = "As for /v1/metrics"),
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for", body = ErrorBody),
    )
)]
pub(super) async fn get_metrics_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let report = report(&state, &caller, &params).await?;
    Ok(super::csv_attachment(
        "pathway-metrics.csv",
        to_csv(&report)?,
    ))
}
