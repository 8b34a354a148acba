//! The dashboard: one server-rendered page of the same report the API
//! answers, with bar charts drawn as SVG on the server (no JavaScript), and
//! every suppressed figure shown as `*`.
//!
//! It opens on the last two years to today (Scottish days), so a board's
//! months before and after it switched the pathway on are both on the first
//! screen, and leads with that comparison and with Public Health Scotland's
//! weeks bands ([`super::lead`]) before the detailed tables.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pathway_common::csrf;
use pathway_common::http::ApiError;
use pathway_proto::BoardCode;

use super::charts::{Bar, bar_chart};
use super::lead::{Comparison, PhsBands, comparisons, phs_bands};
use super::{COOKIE, Session, render, threshold_less_one};
use crate::domain::metrics::{MetricsQuery, MetricsRow, Split};
use crate::domain::period::Granularity;
use crate::web::AppState;
use crate::web::metrics::parse_query;

struct FormValues {
    boards: String,
    from: String,
    to: String,
}

struct Section {
    title: String,
    received_svg: String,
    wait_svg: String,
    rows: Vec<TableRow>,
    /// Outcome names in words, in the order of `outcome_rows`' cells.
    outcome_codes: Vec<String>,
    outcome_rows: Vec<TableRow>,
}

struct TableRow {
    period: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    signed_in_as: Option<String>,
    /// The sign-out form's token.
    csrf: String,
    threshold_less_one: u64,
    error: Option<(String, String)>,
    form: FormValues,
    by_options: Vec<(String, String, bool)>,
    split_options: Vec<(String, String, bool)>,
    csv_link: String,
    /// Before and after adoption, one per board with referrals in the range.
    comparisons: Vec<Comparison>,
    phs: Option<PhsBands>,
    sections: Vec<Section>,
}

/// How many months before the current one the dashboard opens on: two
/// years in all, enough to hold a year either side of a switch-on.
const DEFAULT_MONTHS_BACK: u32 = 23;

/// The first day the dashboard shows unless asked: the first of the month
/// 23 months before `today`'s (a Scottish day).
fn default_from(today: chrono::NaiveDate) -> chrono::NaiveDate {
    let month = chrono::Datelike::with_day(&today, 1).unwrap_or(today);
    month
        .checked_sub_months(chrono::Months::new(DEFAULT_MONTHS_BACK))
        .unwrap_or(month)
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Session(caller): Session,
    Query(mut params): Query<BTreeMap<String, String>>,
) -> Response {
    // An empty form field means "not given".
    params.retain(|_, v| !v.trim().is_empty());
    let today = pathway_proto::days::today();
    params
        .entry("from".into())
        .or_insert_with(|| default_from(today).to_string());
    let value = |k: &str| params.get(k).cloned().unwrap_or_default();
    let by = params.get("by").cloned().unwrap_or_else(|| "month".into());
    let split = value("split");
    let mut page = DashboardPage {
        csrf: csrf::session_token(COOKIE, &caller),
        signed_in_as: Some(
            caller
                .name
                .clone()
                .unwrap_or_else(|| caller.subject.clone()),
        ),
        threshold_less_one: threshold_less_one(&state),
        error: None,
        form: FormValues {
            boards: params
                .get("boards")
                .cloned()
                .unwrap_or_else(|| "all".into()),
            from: value("from"),
            to: value("to"),
        },
        by_options: [("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned(), *v == by))
            .collect(),
        split_options: [
            ("", "No split"),
            ("adoption", "Before and after adoption"),
            ("urban_rural", "Urban/rural class"),
            ("simd", "SIMD quintile"),
            ("age_band", "Age band"),
            ("sex", "Sex"),
            ("priority", "Priority of accepted referrals"),
        ]
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned(), *v == split))
        .collect(),
        csv_link: format!(
            "/v1/metrics.csv?{}",
            params
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        ),
        comparisons: Vec::new(),
        phs: None,
        sections: Vec::new(),
    };
    let report = match parse_query(&caller, &params, today) {
        Ok(query) => match state.analytics.metrics(&caller, &query).await {
            Ok(report) => lead(&state, &caller, &query)
                .await
                .map(|lead| (report, lead)),
            Err(error) => Err(error.into()),
        },
        Err(error) => Err(error),
    };
    match report {
        Ok((report, (compared, phs))) => {
            page.comparisons = compared;
            page.phs = phs;
            let mut groups: BTreeMap<(Option<BoardCode>, String), Vec<&MetricsRow>> =
                BTreeMap::new();
            for row in &report.rows {
                groups
                    .entry((row.board, row.group.clone()))
                    .or_default()
                    .push(row);
            }
            page.sections = groups
                .into_iter()
                .map(|((board, group), rows)| section(board, &group, &rows))
                .collect();
            render(&page, StatusCode::OK)
        }
        Err(ApiError::Client { status, body, .. }) => {
            let field = body
                .fields
                .first()
                .map(|f| f.field.clone())
                .unwrap_or_else(|| "boards".into());
            page.error = Some((field, body.message));
            render(&page, status)
        }
        Err(error) => error.into_response(),
    }
}

/// The page's lead for the range of `query`, whatever its period length and
/// split: before and after adoption and the PHS weeks bands, by quarter.
async fn lead(
    state: &AppState,
    caller: &pathway_common::auth::Caller,
    query: &MetricsQuery,
) -> Result<(Vec<Comparison>, Option<PhsBands>), ApiError> {
    let mut by_quarter = query.clone();
    by_quarter.by = Granularity::Quarter;
    by_quarter.split = Some(Split::Adoption);
    let compared = state.analytics.metrics(caller, &by_quarter).await?;
    by_quarter.split = None;
    let phs = state.analytics.phs_waits(caller, &by_quarter).await?;
    Ok((comparisons(&compared), phs_bands(&phs)))
}

/// Percent-encoding for the few characters a query value here can hold.
fn encode(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | ',' => c.to_string(),
            other => {
                let mut bytes = [0u8; 4];
                other
                    .encode_utf8(&mut bytes)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

fn section(board: Option<BoardCode>, group: &str, rows: &[&MetricsRow]) -> Section {
    let title = match (board, group) {
        (Some(board), group) => format!("{board}: {group} adoption"),
        (None, "all") => "All boards asked for".to_owned(),
        (None, group) => format!("Group {group}"),
    };
    let hidden = |row: &MetricsRow, field: &str| row.suppressed.iter().any(|f| f == field);
    let count = |row: &MetricsRow, field: &str, v: Option<u64>| match v {
        Some(n) => n.to_string(),
        None if hidden(row, field) => "*".into(),
        None => "–".into(),
    };
    let days = |row: &MetricsRow, field: &str, v: Option<f64>| match v {
        Some(x) => format!("{x:.1}"),
        None if hidden(row, field) => "*".into(),
        None => "–".into(),
    };
    let share = |row: &MetricsRow, field: &str, v: Option<f64>| match v {
        Some(x) => format!("{:.0}%", x * 100.0),
        None if hidden(row, field) => "*".into(),
        None => "–".into(),
    };
    let table = rows
        .iter()
        .map(|r| TableRow {
            period: r.period.clone(),
            cells: vec![
                format!(
                    "{} ({} / {})",
                    count(r, "received", r.received),
                    count(r, "received_remote", r.received_remote),
                    count(r, "received_standard", r.received_standard)
                ),
                count(r, "vetted", r.vetted),
                format!(
                    "{} / {}",
                    days(r, "wait_working_days_median", r.wait_working_days_median),
                    days(r, "wait_working_days_p90", r.wait_working_days_p90)
                ),
                format!(
                    "{} / {}",
                    days(
                        r,
                        "wait_working_days_excl_paused_median",
                        r.wait_working_days_excl_paused_median
                    ),
                    days(
                        r,
                        "wait_working_days_excl_paused_p90",
                        r.wait_working_days_excl_paused_p90
                    )
                ),
                share(
                    r,
                    "vetted_within_target_share",
                    r.vetted_within_target_share,
                ),
                share(r, "info_request_rate", r.info_request_rate),
                days(
                    r,
                    "info_turnaround_working_days_median",
                    r.info_turnaround_working_days_median,
                ),
                share(
                    r,
                    "managed_without_specialist_share",
                    r.managed_without_specialist_share,
                ),
                count(r, "notification_failed", r.notification_failed),
                count(r, "withdrawn", r.withdrawn),
                format!(
                    "{} / {}",
                    share(r, "re_referral_rate_6m", r.re_referral_rate_6m),
                    share(r, "re_referral_rate_12m", r.re_referral_rate_12m)
                ),
            ],
        })
        .collect();
    let received: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: r.period.clone(),
            parts: vec![
                (r.received_remote.map(|n| n as f64), "bar-remote"),
                (r.received_standard.map(|n| n as f64), "bar-standard"),
            ],
            hidden: r.received.is_none() && hidden(r, "received"),
        })
        .collect();
    let waits: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: r.period.clone(),
            parts: vec![(r.wait_working_days_excl_paused_median, "bar-wait")],
            hidden: hidden(r, "wait_working_days_excl_paused_median"),
        })
        .collect();
    let outcome_codes: Vec<String> = rows
        .first()
        .map(|r| r.outcomes.keys().cloned().collect())
        .unwrap_or_default();
    let outcome_rows = rows
        .iter()
        .map(|r| TableRow {
            period: r.period.clone(),
            cells: outcome_codes
                .iter()
                .map(|code| {
                    count(
                        r,
                        &format!("outcomes.{code}"),
                        r.outcomes.get(code).copied().flatten(),
                    )
                })
                .collect(),
        })
        .collect();
    let words = pathway_proto::board::BoardSettings::default();
    Section {
        outcome_codes: outcome_codes.iter().map(|c| words.label(c)).collect(),
        outcome_rows,
        received_svg: bar_chart(&format!("Referrals received, {title}"), &received),
        wait_svg: bar_chart(&format!("Median wait, {title}"), &waits),
        title,
        rows: table,
    }
}
