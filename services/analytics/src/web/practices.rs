//! `GET /v1/practices` and `/v1/practices.csv`: feedback to referrers, per
//! GP practice of one board, for a range of Scottish days, as JSON or CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use pathway_common::auth::Caller;
use pathway_common::csv_cell;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::board::{BOARD_CODES, OUTCOME_CODES};
use pathway_proto::{BoardCode, days};

use super::AppState;
use crate::application::practices::{PracticesQuery, PracticesReport};
use crate::domain::practices::PracticeRow;

/// At most this many days in one range (twenty years).
const MAX_DAYS: i64 = 20 * 366;

/// Read the query string, naming the parameter at fault.
pub fn parse_practices_query(
    params: &BTreeMap<String, String>,
    today: NaiveDate,
) -> Result<PracticesQuery, ApiError> {
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
        .find(|k| !["board", "from", "to"].contains(&k.as_str()))
    {
        return Err(bad(
            unknown,
            "unknown parameter: expected board, from or to".into(),
        ));
    }
    let board = match params.get("board") {
        None => return Err(bad("board", "required: one board code".into())),
        Some(code) => BoardCode::parse(code.trim()).map_err(|_| {
            bad(
                "board",
                format!(
                    "unknown board {code:?}: expected one board code, from {}",
                    BOARD_CODES.join(", ")
                ),
            )
        })?,
    };
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
    if (to - from).num_days() > MAX_DAYS {
        return Err(bad(
            "from",
            format!("the range is longer than {MAX_DAYS} days: ask for a shorter one"),
        ));
    }
    Ok(PracticesQuery { board, from, to })
}

async fn report(
    state: &AppState,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Result<PracticesReport, ApiError> {
    let query = parse_practices_query(params, days::today())?;
    Ok(state.analytics.practices(caller, &query).await?)
}

/// Feedback to referrers: per GP practice of one board, the referrals
/// received on the remote pathway in the range, what has become of each
/// (its current outcome, withdrawn before an outcome, or still awaiting
/// one) and the share returned to the referrer with written advice, beside
/// the board's own totals.
///
/// Referrals count by the Scottish day (Europe/London) they were received,
/// under what is known of them today. Disclosure control runs over the
/// whole table: small counts are hidden, and then enough others that no
/// row sum and no column (the board's total and its practices) leaves a
/// hidden cell to be worked out; a share is hidden with either count.
///
/// Management information, for the board's primary-care leads and its
/// practices: any range may be asked for, so these figures are not for
/// publication.
#[utoipa::path(
    get, path = "/v1/practices", tag = "metrics",
    params(
        ("board" = String, Query, description = "One board code; the token must act for it"),
        ("from" = String, Query, description = "First day of receipt, YYYY-MM-DD, a Scottish day"),
        ("to" = Option<String>, Query, description = "Last day of receipt, YYYY-MM-DD, a Scottish day (default today in Scotland)"),
    ),
    responses(
        (status = 200, body = PracticesReport),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for (named)", body = ErrorBody),
    )
)]
pub(super) async fn get_practices(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<PracticesReport>, ApiError> {
    Ok(Json(report(&state, &caller, &params).await?))
}

/// The same rows as `/v1/practices`, as CSV: one line per practice, then
/// the board's totals (`practice` `all`); outcome counts as
/// `outcome_<code>` columns, the share as a fraction, `*` for a suppressed
/// value, empty for no value.
#[utoipa::path(
    get, path = "/v1/practices.csv", tag = "metrics",
    params(
        ("board" = String, Query, description = "As for /v1/practices"),
        ("from" = String, Query, description = "As for /v1/practices"),
        ("to" = Option<String>, Query, description = "As for /v1/practices"),
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 400, description = "A parameter is not valid; `fields` names it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither an evaluator nor a board admin, or a board the token may not act for (named)", body = ErrorBody),
    )
)]
pub(super) async fn get_practices_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let report = report(&state, &caller, &params).await?;
    Ok(super::csv_attachment(
        "pathway-practices.csv",
        to_csv(&report)?,
    ))
}

fn to_csv(report: &PracticesReport) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = ["board", "from", "to", "practice", "received", "decided"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    head.extend(OUTCOME_CODES.iter().map(|c| format!("outcome_{c}")));
    head.extend(
        ["withdrawn", "awaiting", "advice_to_referrer_share"]
            .iter()
            .map(|c| (*c).to_owned()),
    );
    writer.write_record(&head)?;
    let rows = report
        .practices
        .iter()
        .chain(std::iter::once(&report.board_total));
    for row in rows {
        writer.write_record(
            record(report, row)
                .iter()
                .map(|c| csv_cell::escape(c).into_owned()),
        )?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn record(report: &PracticesReport, row: &PracticeRow) -> Vec<String> {
    let cell = |field: &str, value: Option<String>| match value {
        Some(v) => v,
        None if row.suppressed.iter().any(|f| f == field) => "*".to_owned(),
        None => String::new(),
    };
    let count = |field: &str, value: Option<u64>| cell(field, value.map(|n| n.to_string()));
    let mut out = vec![
        report.board.code().to_owned(),
        report.from.to_string(),
        report.to.to_string(),
        row.practice.clone(),
        count("received", row.received),
        count("decided", row.decided),
    ];
    for code in OUTCOME_CODES {
        let field = format!("outcomes.{code}");
        out.push(count(&field, row.outcomes.get(code).copied().flatten()));
    }
    out.push(count("withdrawn", row.withdrawn));
    out.push(count("awaiting", row.awaiting));
    out.push(cell(
        "advice_to_referrer_share",
        row.advice_to_referrer_share.map(|s| s.to_string()),
    ));
    out
}
