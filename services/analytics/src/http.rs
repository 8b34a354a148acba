//! The analytics HTTP API: metrics as JSON and CSV, OpenAPI, health.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRef, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use chrono::NaiveDate;
use pathway_common::auth::{Authenticator, Caller};
use pathway_common::http::{
    ApiError, BearerAuth, ErrorBody, FieldError, ops_routes, track_metrics,
};
use pathway_proto::board::BOARD_CODES;
use utoipa::OpenApi;

use crate::application::{Analytics, ImportReport, MetricsReport};
use crate::domain::metrics::{MetricsQuery, MetricsRow, Split};
use crate::domain::period::{Granularity, periods};
use crate::rebuild::{RebuildState, RebuildStatus, Rebuilder};

#[derive(Clone)]
pub struct AppState {
    pub analytics: Analytics,
    /// The live consumer, and rebuilds that pause it.
    pub rebuilder: Rebuilder,
    /// Mark the dashboard's session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.analytics.platform.auth.clone()
    }
}

const DESCRIPTION: &str = "The evaluators' numbers for the remote vetting pathway, from de-identified facts about each referral. Every call needs `Authorization: Bearer <token>` with the role `evaluator` or `board_admin`, for the boards asked for.

**Definitions.** Each metric is counted in the period of its own event (UTC dates): *received* by the day of receipt (`received_remote` on the remote pathway, `received_standard` routed to the standard route because the board was not on the pathway); everything about vetting by the day the first vetting outcome was recorded (a later correction changes the outcome counted, not the day). *Wait* runs from the day of receipt to the day of vetting: in working days, the board's working days (weekdays that are not Scottish bank holidays, unless the board counts none, nor the board's own non-working days, from its latest settings) after the day of receipt up to and including the day of vetting; in calendar days, the days between. The clock pauses from the day information is requested from the referrer to the day it is answered (or to vetting, if never answered); overlapping pauses count once; `_excl_paused` waits have that paused time taken off. Median and 90th centile interpolate linearly between the nearest ranks (a spreadsheet's MEDIAN and PERCENTILE.INC). *Vetted within target*: wait in working days, paused time taken off, at most the board's `vetting_target_working_days`. *Information-request rate*: vetted referrals with at least one request, over vetted. *Information turnaround*: working days from a request to its answer, counted by the day of the answer. *Outcome mix*: vetted referrals by current outcome. *Managed without a specialist appointment*: outcomes advice_to_referrer, self_management (with or without a third-sector partner) and physiotherapy, as configured, over vetted. *Notification failed*: vetted referrals with at least one notification that failed for good. *Withdrawn*: by the day of withdrawal. *Re-referral*: of the referrals vetted in the period with advice to the referrer or self-management whose 6 (12) months after vetting have passed by today, the share whose patient (by the keyed pseudonym) was referred again, to any of the boards asked for, within 6 (12) months after vetting. *Waits by priority* (`split=priority`): the same rows grouped by an accepted referral's priority, `none` for other outcomes. *Before/after adoption* (`split=adoption`): per board, referrals received before, or on and after, the first effective date on which the board switched the pathway on.

**Disclosure control.** A count from 1 to `suppression_threshold - 1` is never shown, nor anything a reader could work it out from: a median, centile or share over it, a total one of whose parts is hidden, a subset whose complement is small (vetted minus vetted within target), and, when only one outcome is hidden, the next smallest outcome too. Hidden values are `null` in JSON and named in the row's `suppressed`; `*` in CSV. Zeros are shown.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Pathway analytics", description = DESCRIPTION, version = "1"),
    paths(get_metrics, get_metrics_csv, import_baseline, start_rebuild, rebuild_status),
    components(schemas(MetricsReport, ImportReport, MetricsRow, Granularity, Split, RebuildStatus, RebuildState, ErrorBody, FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    let metrics = state.analytics.platform.metrics.clone();
    let ops = ops_routes(metrics.clone(), state.analytics.platform.readiness());
    Router::new()
        .route("/v1/metrics", get(get_metrics))
        .route("/v1/metrics.csv", get(get_metrics_csv))
        .route(
            "/v1/baseline",
            post(import_baseline).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/v1/rebuild", post(start_rebuild).get(rebuild_status))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(crate::ui::routes())
        .fallback(pathway_common::http::not_found_fallback)
        .with_state(state)
        .merge(ops)
        .layer(middleware::from_fn_with_state(metrics, track_metrics))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(pathway_common::http::request_span),
        )
}

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
            http::StatusCode::BAD_REQUEST,
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
    let boards: Vec<String> = match params.get("boards").map(String::as_str) {
        None | Some("all") => BOARD_CODES
            .iter()
            .filter(|b| caller.may_act_for(b))
            .map(|b| (*b).to_owned())
            .collect(),
        Some(list) => {
            let mut boards = Vec::new();
            for code in list.split(',').map(str::trim) {
                if !BOARD_CODES.contains(&code) {
                    return Err(bad(
                        "boards",
                        format!(
                            "unknown board {code:?}: expected `all` or board codes separated by commas, from {}",
                            BOARD_CODES.join(", ")
                        ),
                    ));
                }
                if !boards.iter().any(|b| b == code) {
                    boards.push(code.to_owned());
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

async fn report(
    state: &AppState,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Result<MetricsReport, ApiError> {
    let query = parse_query(caller, params, chrono::Utc::now().date_naive())?;
    metrics(state, caller, &query).await
}

/// The metrics, unless a rebuild has them half-built: then 503, with how far it is.
pub async fn metrics(
    state: &AppState,
    caller: &Caller,
    query: &MetricsQuery,
) -> Result<MetricsReport, ApiError> {
    let rebuild = state.rebuilder.status();
    if rebuild.state == RebuildState::Running {
        return Err(ApiError::new(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "rebuilding",
            format!(
                "analytics is rebuilding its facts from the stream ({} messages handled, {} to go): \
                 ask again when it is done (GET /v1/rebuild)",
                rebuild.handled, rebuild.remaining
            ),
        ));
    }
    state.analytics.metrics(caller, query).await
}

/// Rebuilding touches every board: a board admin for all of them (`*`).
fn require_operator(caller: &Caller) -> Result<(), ApiError> {
    caller.require_role(&[pathway_common::auth::Role::BoardAdmin])?;
    if caller.boards.contains("*") {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "a rebuild touches every board's facts: it needs a board admin token for every board (`*`)",
        ))
    }
}

/// Forget every fact built from the stream and read the stream again from the
/// start, in the background: the live consumer stops meanwhile and carries on
/// after. Metrics answer 503 until it is done; imported baselines are kept.
#[utoipa::path(
    post, path = "/v1/rebuild", tag = "rebuild",
    responses(
        (status = 202, description = "Started; follow it with GET /v1/rebuild", body = RebuildStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin for every board (`*`)", body = ErrorBody),
        (status = 409, description = "A rebuild is running already", body = ErrorBody),
    )
)]
async fn start_rebuild(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(http::StatusCode, Json<RebuildStatus>), ApiError> {
    require_operator(&caller)?;
    match state.rebuilder.begin(&caller.subject) {
        Some(status) => Ok((http::StatusCode::ACCEPTED, Json(status))),
        None => {
            let running = state.rebuilder.status();
            Err(ApiError::conflict(
                "rebuild_running",
                format!(
                    "a rebuild is running already ({} messages handled, {} to go): follow it with GET /v1/rebuild",
                    running.handled, running.remaining
                ),
            ))
        }
    }
}

/// How the last rebuild went, or how far the running one is.
#[utoipa::path(
    get, path = "/v1/rebuild", tag = "rebuild",
    responses(
        (status = 200, body = RebuildStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a board admin for every board (`*`)", body = ErrorBody),
    )
)]
async fn rebuild_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RebuildStatus>, ApiError> {
    require_operator(&caller)?;
    Ok(Json(state.rebuilder.status()))
}

/// The metrics for boards, a date range and a period length, optionally split.
#[utoipa::path(
    get, path = "/v1/metrics", tag = "metrics",
    params(
        ("boards" = Option<String>, Query, description = "Board codes separated by commas, or `all` (the default: every board the token may act for)"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (default today, UTC)"),
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
async fn get_metrics(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<MetricsReport>, ApiError> {
    Ok(Json(report(&state, &caller, &params).await?))
}

/// The same rows as `/v1/metrics`, as CSV: one line per row, outcome counts
/// as `outcome_<code>` columns, `*` for a suppressed value, empty for no value.
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
async fn get_metrics_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let report = report(&state, &caller, &params).await?;
    let body = to_csv(&report)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pathway-metrics.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The report's rows as CSV, in the JSON's field order.
pub fn to_csv(report: &MetricsReport) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let codes: Vec<String> = report
        .rows
        .first()
        .map(|row| row.outcomes.keys().cloned().collect())
        .unwrap_or_default();
    let mut head: Vec<String> = ["period", "period_first", "period_last", "board", "group"]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    head.extend(COUNT_FIELDS.iter().map(|(name, _)| (*name).to_owned()));
    head.extend(codes.iter().map(|c| format!("outcome_{c}")));
    writer.write_record(&head)?;
    for row in &report.rows {
        let hidden = |field: &str| row.suppressed.iter().any(|s| s == field);
        let cell = |field: &str, value: Option<String>| match value {
            Some(v) => v,
            None if hidden(field) => "*".to_owned(),
            None => String::new(),
        };
        let mut record = vec![
            row.period.clone(),
            row.period_first.to_string(),
            row.period_last.to_string(),
            row.board.clone().unwrap_or_default(),
            row.group.clone(),
        ];
        for (name, get) in COUNT_FIELDS {
            record.push(cell(name, get(row)));
        }
        for code in &codes {
            let value = row.outcomes.get(code).copied().flatten();
            record.push(cell(
                &format!("outcomes.{code}"),
                value.map(|n| n.to_string()),
            ));
        }
        writer.write_record(&record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

type Getter = fn(&MetricsRow) -> Option<String>;

fn n(value: Option<u64>) -> Option<String> {
    value.map(|v| v.to_string())
}

fn x(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// The CSV's metric columns, named as the JSON's fields.
const COUNT_FIELDS: [(&str, Getter); 29] = [
    ("received", |r| n(r.received)),
    ("received_remote", |r| n(r.received_remote)),
    ("received_standard", |r| n(r.received_standard)),
    ("vetted", |r| n(r.vetted)),
    (
        "wait_working_days_median",
        |r| x(r.wait_working_days_median),
    ),
    ("wait_working_days_p90", |r| x(r.wait_working_days_p90)),
    ("wait_calendar_days_median", |r| {
        x(r.wait_calendar_days_median)
    }),
    ("wait_calendar_days_p90", |r| x(r.wait_calendar_days_p90)),
    ("wait_working_days_excl_paused_median", |r| {
        x(r.wait_working_days_excl_paused_median)
    }),
    ("wait_working_days_excl_paused_p90", |r| {
        x(r.wait_working_days_excl_paused_p90)
    }),
    ("wait_calendar_days_excl_paused_median", |r| {
        x(r.wait_calendar_days_excl_paused_median)
    }),
    ("wait_calendar_days_excl_paused_p90", |r| {
        x(r.wait_calendar_days_excl_paused_p90)
    }),
    ("vetted_within_target", |r| n(r.vetted_within_target)),
    ("vetted_within_target_share", |r| {
        x(r.vetted_within_target_share)
    }),
    ("info_requested", |r| n(r.info_requested)),
    ("info_request_rate", |r| x(r.info_request_rate)),
    ("info_answered", |r| n(r.info_answered)),
    ("info_turnaround_working_days_median", |r| {
        x(r.info_turnaround_working_days_median)
    }),
    ("info_turnaround_working_days_p90", |r| {
        x(r.info_turnaround_working_days_p90)
    }),
    ("managed_without_specialist", |r| {
        n(r.managed_without_specialist)
    }),
    ("managed_without_specialist_share", |r| {
        x(r.managed_without_specialist_share)
    }),
    ("notification_failed", |r| n(r.notification_failed)),
    ("withdrawn", |r| n(r.withdrawn)),
    ("re_referral_followed_6m", |r| n(r.re_referral_followed_6m)),
    ("re_referred_6m", |r| n(r.re_referred_6m)),
    ("re_referral_rate_6m", |r| x(r.re_referral_rate_6m)),
    (
        "re_referral_followed_12m",
        |r| n(r.re_referral_followed_12m),
    ),
    ("re_referred_12m", |r| n(r.re_referred_12m)),
    ("re_referral_rate_12m", |r| x(r.re_referral_rate_12m)),
];

#[derive(serde::Deserialize)]
struct BaselineParams {
    board: Option<String>,
}

/// Load a board's referrals from before it adopted the pathway, from its
/// existing system: a CSV file with a header row and the columns
/// `reference` and `received_on` (required), `vetted_on`, `outcome`,
/// `priority`, `withdrawn_on`, `age_band`, `sex`, `urban_rural_class`,
/// `simd_quintile` (optional; dates `YYYY-MM-DD`, codes as in the events).
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
async fn import_baseline(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BaselineParams>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let board = params.board.unwrap_or_default();
    if !BOARD_CODES.contains(&board.as_str()) {
        return Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!(
                "the parameter board is not valid: expected one of {}",
                BOARD_CODES.join(", ")
            ),
        )
        .with_fields(vec![FieldError::new("board", "a board code")]));
    }
    Ok(Json(
        state
            .analytics
            .import_baseline(&caller, &board, &body)
            .await?,
    ))
}
