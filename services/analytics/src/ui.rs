//! The dashboard: one server-rendered page of the same report the API
//! answers, with bar charts drawn as SVG on the server (no JavaScript), and
//! every suppressed figure shown as `*`.
//!
//! Sign-in as in the clinician pages: behind the board's OpenID Connect
//! proxy the token arrives in the `Authorization` header; on the embedded
//! default an evaluator pastes a development token, kept in an HttpOnly,
//! SameSite=Strict cookie of its own (cookies are per host, not per port, so
//! the name differs from the vetting pages').

use std::collections::BTreeMap;
use std::fmt::Write as _;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::ApiError;
use pathway_common::pages;
use serde::Deserialize;

use crate::domain::metrics::MetricsRow;
use crate::http::{AppState, parse_query};

const COOKIE: &str = "pathway_analytics_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/dashboard", get(dashboard))
        .merge(pages::asset_routes())
}

/// A signed-in evaluator or board admin; anyone else goes to sign in.
pub struct Session(Caller);

/// The roles the dashboard is for.
const ROLES: [Role; 2] = [Role::Evaluator, Role::BoardAdmin];

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        pages::signed_in(parts, state, COOKIE, &ROLES)
            .await
            .map(Session)
    }
}

fn allowed(role: Role) -> bool {
    ROLES.contains(&role)
}

fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            ApiError::Internal(anyhow::anyhow!("page cannot be rendered: {error}")).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    signed_in_as: Option<String>,
    threshold_less_one: u64,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct SignInQuery {
    expired: Option<String>,
}

async fn sign_in_page(State(state): State<AppState>, Query(query): Query<SignInQuery>) -> Response {
    render(
        &SignInPage {
            signed_in_as: None,
            threshold_less_one: threshold_less_one(&state),
            error: query.expired.map(|_| {
                "your session has ended or the token is not an evaluator's or a board admin's: sign in again".to_owned()
            }),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
}

async fn sign_in(State(state): State<AppState>, Form(form): Form<SignInForm>) -> Response {
    let token = form.token.trim();
    let problem = if token.is_empty() {
        Some("enter your token".to_owned())
    } else {
        match state.analytics.platform.auth.verify(token).await {
            Ok(claims) if allowed(claims.role) => None,
            Ok(claims) => Some(format!(
                "this token is for the role {}: the dashboard is for evaluators and board admins",
                claims.role
            )),
            Err(error) => Some(error.to_string()),
        }
    };
    if let Some(error) = problem {
        return render(
            &SignInPage {
                signed_in_as: None,
                threshold_less_one: threshold_less_one(&state),
                error: Some(error),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    pages::start_session(COOKIE, token, state.secure_cookies, "/dashboard")
}

async fn sign_out() -> Response {
    pages::end_session(COOKIE)
}

fn threshold_less_one(state: &AppState) -> u64 {
    state
        .analytics
        .rules
        .suppression_threshold
        .saturating_sub(1)
}

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
    threshold_less_one: u64,
    error: Option<(String, String)>,
    form: FormValues,
    by_options: Vec<(String, String, bool)>,
    split_options: Vec<(String, String, bool)>,
    csv_link: String,
    sections: Vec<Section>,
}

async fn dashboard(
    State(state): State<AppState>,
    Session(caller): Session,
    Query(mut params): Query<BTreeMap<String, String>>,
) -> Response {
    // An empty form field means "not given".
    params.retain(|_, v| !v.trim().is_empty());
    let today = chrono::Utc::now().date_naive();
    params
        .entry("from".into())
        .or_insert_with(|| format!("{}-01-01", chrono::Datelike::year(&today)));
    let value = |k: &str| params.get(k).cloned().unwrap_or_default();
    let by = params.get("by").cloned().unwrap_or_else(|| "month".into());
    let split = value("split");
    let mut page = DashboardPage {
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
        sections: Vec::new(),
    };
    let report = match parse_query(&caller, &params, today) {
        Ok(query) => crate::http::metrics(&state, &caller, &query).await,
        Err(error) => Err(error),
    };
    match report {
        Ok(report) => {
            let mut groups: BTreeMap<(Option<String>, String), Vec<&MetricsRow>> = BTreeMap::new();
            for row in &report.rows {
                groups
                    .entry((row.board.clone(), row.group.clone()))
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

fn section(board: Option<String>, group: &str, rows: &[&MetricsRow]) -> Section {
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

/// One period's bar: stacked parts (a `None` part draws nothing).
struct Bar {
    label: String,
    parts: Vec<(Option<f64>, &'static str)>,
    hidden: bool,
}

/// A bar chart as an SVG element, one bar per period, with each bar's value
/// written above it (`*` when suppressed) so the chart reads without colour.
fn bar_chart(title: &str, bars: &[Bar]) -> String {
    const HEIGHT: f64 = 180.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 40.0;
    const STEP: f64 = 48.0;
    let width = (bars.len() as f64 * STEP + 40.0).max(320.0);
    let total = |b: &Bar| b.parts.iter().filter_map(|p| p.0).sum::<f64>();
    let max = bars.iter().map(total).fold(0.0, f64::max).max(1.0);
    let scale = (HEIGHT - TOP - BOTTOM) / max;
    let baseline = HEIGHT - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" role="img" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}"><title>{}</title><line x1="20" y1="{baseline}" x2="{}" y2="{baseline}" stroke="#4c6272"/>"##,
        escape(title),
        width - 10.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = 30.0 + i as f64 * STEP;
        let mut y = baseline;
        for (value, class) in &bar.parts {
            if let Some(v) = value {
                let h = v * scale;
                y -= h;
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{x}" y="{y:.1}" width="32" height="{h:.1}"/>"#
                );
            }
        }
        let shown = if bar.hidden {
            "*".to_owned()
        } else if bar.parts.iter().all(|p| p.0.is_none()) {
            "–".to_owned()
        } else {
            let t = total(bar);
            if t.fract() == 0.0 {
                format!("{t:.0}")
            } else {
                format!("{t:.1}")
            }
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x + 16.0,
            y - 4.0,
            escape(&shown),
            x + 16.0,
            baseline + 16.0,
            escape(&bar.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
