//! The clinician web pages: server-rendered HTML that works without
//! JavaScript and with the keyboard alone. Every page reads the same
//! application as the JSON API, so the rules (claims, leases, the red-flag
//! override, the audit trail) are the same in both.
//!
//! Sign-in: the embedded default accepts a development token (from
//! `pathway token`) and keeps it in an HttpOnly, SameSite=Strict cookie; the
//! strict cookie is what stops other sites posting forms here. Production
//! puts the board's OpenID Connect sign-in in front, which passes the
//! clinician's token in the `Authorization` header (see `deploy/README.md`).

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, FieldError};
use pathway_common::pages;
use pathway_proto::board::{BOARD_CODES, BoardSettings, OUTCOME_CODES};
use serde::Deserialize;
use serde_json::Value;

use crate::application::{InformationRequestBody, ReferralDetail, Worklist, WorklistQuery};
use crate::domain::outcome::{MODES, OutcomeRequest, PRIORITIES, REJECTION_REASONS};
use crate::domain::{in_words, status};
use crate::http::AppState;

const COOKIE: &str = "pathway_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/worklist") }))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/worklist", get(worklist_page))
        .route("/referrals/{id}", get(referral_page))
        .route("/referrals/{id}/claim", post(claim))
        .route("/referrals/{id}/release", post(release))
        .route("/referrals/{id}/information-requests", post(ask))
        .route("/referrals/{id}/outcome", post(record))
        .route("/referrals/{id}/correction", post(correct))
        .merge(pages::asset_routes())
}

/// A signed-in clinician, from the session cookie; anyone else is sent to
/// the sign-in page.
pub struct Session(Caller);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        pages::signed_in(parts, state, COOKIE, &[Role::Clinician])
            .await
            .map(Session)
    }
}

fn display_name(caller: &Caller) -> String {
    caller
        .name
        .clone()
        .unwrap_or_else(|| caller.subject.clone())
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
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    signed_in_as: Option<String>,
    title: String,
    message: String,
    back: String,
    back_text: String,
}

fn problem_page(caller: &Caller, error: &ApiError, back: &str, back_text: &str) -> Response {
    let (status, title, message) = match error {
        ApiError::Client { status, body, .. } => (
            *status,
            match status.as_u16() {
                404 => "Referral not found",
                403 => "Not allowed",
                _ => "This cannot be done",
            },
            body.message.clone(),
        ),
        ApiError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "a clinician page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be shown. Try again; if it keeps happening, tell your service desk.".to_owned(),
            )
        }
    };
    render(
        &ProblemPage {
            signed_in_as: Some(display_name(caller)),
            title: title.to_owned(),
            message,
            back: back.to_owned(),
            back_text: back_text.to_owned(),
        },
        status,
    )
}

#[derive(Deserialize, Default)]
struct SignInQuery {
    expired: Option<String>,
}

async fn sign_in_page(Query(query): Query<SignInQuery>) -> Response {
    let expired = query.expired.is_some();
    render(
        &SignInPage {
            signed_in_as: None,
            error: expired.then(|| {
                "your session has ended or the token is not a clinician's: sign in again".to_owned()
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
        match state.vetting.platform.auth.verify(token).await {
            Ok(claims) if claims.role == Role::Clinician => None,
            Ok(claims) => Some(format!(
                "this token is for the role {}: the vetting pages are for clinicians",
                claims.role
            )),
            Err(error) => Some(error.to_string()),
        }
    };
    if let Some(error) = problem {
        return render(
            &SignInPage {
                signed_in_as: None,
                error: Some(error),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    pages::start_session(COOKIE, token, state.secure_cookies, "/worklist")
}

async fn sign_out() -> Response {
    pages::end_session(COOKIE)
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    signed_in_as: Option<String>,
    list: Worklist,
    boards: Vec<String>,
    board_name: String,
    status_options: Vec<(String, String)>,
    status_filter: String,
    mine: bool,
}

impl WorklistPage {
    fn short(&self, id: impl AsRef<str>) -> String {
        short(id.as_ref())
    }
    fn words(&self, code: impl AsRef<str>) -> String {
        in_words(code.as_ref())
    }
}

fn short(id: &str) -> String {
    // UUIDv7 ids share their leading (time) digits; the tail tells them apart.
    id.rsplit('-')
        .next()
        .unwrap_or(id)
        .chars()
        .take(8)
        .collect()
}

#[derive(Deserialize, Default)]
struct WorklistForm {
    board: Option<String>,
    status: Option<String>,
    mine: Option<String>,
}

fn boards_of(caller: &Caller) -> Vec<String> {
    if caller.boards.contains("*") {
        BOARD_CODES.iter().map(|b| (*b).to_owned()).collect()
    } else {
        caller.boards.iter().cloned().collect()
    }
}

async fn worklist_page(
    State(state): State<AppState>,
    Session(caller): Session,
    Query(form): Query<WorklistForm>,
) -> Response {
    let boards = boards_of(&caller);
    let board = form
        .board
        .filter(|b| !b.is_empty())
        .or_else(|| boards.first().cloned())
        .unwrap_or_default();
    let status_filter = form
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "waiting".into());
    let mine = form.mine.is_some_and(|m| m == "true");
    let query = WorklistQuery {
        status: (status_filter != "waiting").then(|| status_filter.clone()),
        mine: Some(mine),
    };
    match state.vetting.worklist(&caller, &board, &query).await {
        Ok(list) => {
            let mut status_options =
                vec![("waiting".to_owned(), "Waiting (not yet vetted)".to_owned())];
            status_options.extend(status::ALL.iter().map(|s| ((*s).to_owned(), in_words(s))));
            render(
                &WorklistPage {
                    signed_in_as: Some(display_name(&caller)),
                    board_name: in_words(&board),
                    list,
                    boards,
                    status_options,
                    status_filter,
                    mine,
                },
                StatusCode::OK,
            )
        }
        Err(error) => problem_page(&caller, &error, "/worklist", "Back to your worklist"),
    }
}

/// What the clinician typed, kept when a form comes back with errors.
#[derive(Debug, Clone, Default, Deserialize)]
struct FormValues {
    #[serde(default)]
    question: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    advice: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    rejection_reason: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rationale: String,
    #[serde(default)]
    red_flag_override_reason: String,
}

impl FormValues {
    fn outcome_request(&self) -> OutcomeRequest {
        let some = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
        OutcomeRequest {
            outcome: some(&self.outcome),
            priority: some(&self.priority),
            mode: some(&self.mode),
            advice: some(&self.advice),
            partner: some(&self.partner),
            rejection_reason: some(&self.rejection_reason),
            reason: some(&self.reason),
            rationale: some(&self.rationale),
            red_flag_override_reason: some(&self.red_flag_override_reason),
        }
    }
}

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

fn options<'a>(choices: impl IntoIterator<Item = (&'a str, String)>, chosen: &str) -> Vec<Opt> {
    choices
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == chosen,
            value: value.to_owned(),
            label,
        })
        .collect()
}

/// The patient and clinical content, read out of the referral as received.
#[derive(Default)]
struct ClinicalView {
    name: String,
    chi: String,
    date_of_birth: String,
    postcode: String,
    accessibility: String,
    referrer: String,
    sites: String,
    impact: String,
    current_treatments: String,
    previous_treatments: String,
    question: String,
}

fn text(value: &Value, path: &[&str]) -> String {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    match at {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(in_words)
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    }
}

impl ClinicalView {
    fn from(referral: &Value) -> Self {
        let impact = ["function", "sleep", "mood"]
            .iter()
            .filter_map(|k| {
                let level = text(referral, &["clinical", "impact", k]);
                (!level.is_empty()).then(|| format!("{k}: {level}"))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let none = |s: String| {
            if s.is_empty() {
                "None recorded".to_owned()
            } else {
                s
            }
        };
        Self {
            name: format!(
                "{} {}",
                text(referral, &["patient", "given_name"]),
                text(referral, &["patient", "family_name"])
            )
            .trim()
            .to_owned(),
            chi: text(referral, &["patient", "chi"]),
            date_of_birth: text(referral, &["patient", "date_of_birth"]),
            postcode: text(referral, &["patient", "postcode"]),
            accessibility: text(referral, &["patient", "accessibility_needs"]),
            referrer: format!(
                "{}, practice {}",
                text(referral, &["referrer", "clinician_name"]),
                text(referral, &["referrer", "practice_code"])
            ),
            sites: none(text(referral, &["clinical", "pain_sites"])),
            impact: none(impact),
            current_treatments: none(text(referral, &["clinical", "current_treatments"])),
            previous_treatments: none(text(referral, &["clinical", "previous_treatments"])),
            question: none(text(referral, &["clinical", "question"])),
        }
    }
}

struct Recorded {
    title: String,
    lines: Vec<String>,
    override_reason: Option<String>,
}

struct HistoryLine {
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    signed_in_as: Option<String>,
    detail: ReferralDetail,
    clinical: ClinicalView,
    history: Vec<HistoryLine>,
    recorded: Vec<Recorded>,
    errors: Vec<FieldError>,
    problem: Option<String>,
    notice: Option<String>,
    form: FormValues,
    outcome_options: Vec<Opt>,
    priority_options: Vec<Opt>,
    mode_options: Vec<Opt>,
    partner_options: Vec<Opt>,
    rejection_options: Vec<Opt>,
}

impl ReferralPage {
    fn short(&self, id: impl AsRef<str>) -> String {
        short(id.as_ref())
    }
    fn words(&self, code: impl AsRef<str>) -> String {
        in_words(code.as_ref())
    }
    fn can(&self, action: &str) -> bool {
        self.detail.allowed_actions.iter().any(|a| a == action)
    }
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.reason.as_str())
    }
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn referral_page(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
    Query(query): Query<Done>,
) -> Response {
    let notice = query.done.and_then(|d| {
        let text = match d.as_str() {
            "claimed" => "You have claimed this referral.",
            "released" => "The referral is back on the worklist.",
            "asked" => "Your question has been sent to the referrer.",
            "recorded" => "The outcome is recorded.",
            "corrected" => "The correction is recorded.",
            _ => return None,
        };
        Some(text.to_owned())
    });
    show_referral(
        &state,
        &caller,
        &id,
        notice,
        None,
        Vec::new(),
        FormValues::default(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn show_referral(
    state: &AppState,
    caller: &Caller,
    id: &str,
    notice: Option<String>,
    problem: Option<String>,
    errors: Vec<FieldError>,
    form: FormValues,
    status: StatusCode,
) -> Response {
    let detail = match state.vetting.referral(caller, id).await {
        Ok(detail) => detail,
        Err(error) => return problem_page(caller, &error, "/worklist", "Back to your worklist"),
    };
    let settings = state
        .vetting
        .settings_of(&detail.row.board)
        .await
        .unwrap_or_default();
    let history = match history(state, caller, &detail).await {
        Ok(history) => history,
        Err(error) => return problem_page(caller, &error, "/worklist", "Back to your worklist"),
    };
    let recorded = detail
        .outcomes
        .iter()
        .map(|o| {
            describe(
                &settings,
                o.correction,
                &o.outcome,
                o.recorded_at,
                o.clinician_name.as_deref().unwrap_or(&o.clinician),
            )
        })
        .collect();
    let page = ReferralPage {
        signed_in_as: Some(display_name(caller)),
        clinical: ClinicalView::from(&detail.referral),
        outcome_options: options(
            OUTCOME_CODES
                .iter()
                .filter(|c| settings.offers(c))
                .map(|c| (*c, settings.label(c))),
            &form.outcome,
        ),
        priority_options: options(PRIORITIES.iter().map(|p| (*p, in_words(p))), &form.priority),
        mode_options: options(MODES.iter().map(|m| (*m, in_words(m))), &form.mode),
        partner_options: options(
            settings
                .partners
                .iter()
                .map(|p| (p.code.as_str(), p.name.clone())),
            &form.partner,
        ),
        rejection_options: options(
            REJECTION_REASONS
                .iter()
                .map(|(code, text)| (*code, format!("{code} {}", in_words(text)))),
            &form.rejection_reason,
        ),
        detail,
        history,
        recorded,
        errors,
        problem,
        notice,
        form,
    };
    render(&page, status)
}

fn describe(
    settings: &BoardSettings,
    correction: bool,
    outcome: &OutcomeRequest,
    at: DateTime<Utc>,
    by: &str,
) -> Recorded {
    let code = outcome.outcome.clone().unwrap_or_default();
    let mut lines = Vec::new();
    if let (Some(p), Some(m)) = (&outcome.priority, &outcome.mode) {
        lines.push(format!("Priority {p}, {}", in_words(m)));
    }
    if let Some(partner) = &outcome.partner {
        lines.push(format!(
            "Referred to {}",
            settings
                .partner(partner)
                .map_or(partner.as_str(), |p| p.name.as_str())
        ));
    }
    if let Some(advice) = &outcome.advice {
        lines.push(format!("Advice: {advice}"));
    }
    if let Some(reason) = &outcome.reason {
        match &outcome.rejection_reason {
            Some(code) => lines.push(format!("Reason: {reason} (rejection reason {code})")),
            None => lines.push(format!("Reason: {reason}")),
        }
    }
    if let Some(rationale) = &outcome.rationale {
        lines.push(format!("Rationale: {rationale}"));
    }
    Recorded {
        title: format!(
            "{}{} – {} by {by}",
            if correction { "Correction: " } else { "" },
            settings.label(&code),
            at.format("%d %b %Y %H:%M UTC")
        ),
        lines,
        override_reason: outcome.red_flag_override_reason.clone(),
    }
}

async fn history(
    state: &AppState,
    caller: &Caller,
    detail: &ReferralDetail,
) -> Result<Vec<HistoryLine>, ApiError> {
    let rows = state
        .vetting
        .actions_on(caller, &detail.row.referral_id)
        .await?;
    let mut lines: Vec<(DateTime<Utc>, String)> = vec![(
        detail.row.received_at,
        "Received from the referrer".to_owned(),
    )];
    for row in rows {
        let what = match row.action.as_str() {
            "referral.claim" => format!("Claimed by {}", row.actor),
            "referral.release" => format!("Released by {}", row.actor),
            "referral.lease_lapsed" => "The claim lapsed".to_owned(),
            "referral.request_information" => format!("Information requested by {}", row.actor),
            "referral.record_outcome" => format!("Outcome recorded by {}", row.actor),
            "referral.correct_outcome" => format!("Outcome corrected by {}", row.actor),
            _ => continue,
        };
        lines.push((row.at, what));
    }
    for q in &detail.information_requests {
        if let Some(at) = q.answered_at {
            lines.push((at, "The referrer answered".to_owned()));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    Ok(lines
        .into_iter()
        .map(|(at, text)| HistoryLine {
            at: at.format("%d %b %Y %H:%M UTC").to_string(),
            text,
        })
        .collect())
}

/// After an action: back to the referral page with a notice, or the page
/// again with the problem shown (and the fields' errors next to them).
async fn after(
    state: &AppState,
    caller: &Caller,
    id: &str,
    done: &str,
    result: Result<(), ApiError>,
    form: FormValues,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/referrals/{id}?done={done}")).into_response(),
        Err(ApiError::Client { status, body, .. }) => {
            let errors = body.fields.clone();
            let problem = errors.is_empty().then(|| body.message.clone());
            show_referral(state, caller, id, None, problem, errors, form, status).await
        }
        Err(error) => problem_page(
            caller,
            &error,
            &format!("/referrals/{id}"),
            "Back to the referral",
        ),
    }
}

async fn claim(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
) -> Response {
    let result = state.vetting.claim(&caller, &id).await.map(|_| ());
    after(
        &state,
        &caller,
        &id,
        "claimed",
        result,
        FormValues::default(),
    )
    .await
}

async fn release(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
) -> Response {
    let result = state.vetting.release(&caller, &id).await.map(|_| ());
    after(
        &state,
        &caller,
        &id,
        "released",
        result,
        FormValues::default(),
    )
    .await
}

async fn ask(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
    Form(form): Form<FormValues>,
) -> Response {
    let body = InformationRequestBody {
        question: Some(form.question.clone()),
    };
    let result = state
        .vetting
        .request_information(&caller, &id, &body)
        .await
        .map(|_| ());
    after(&state, &caller, &id, "asked", result, form).await
}

async fn record(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
    Form(form): Form<FormValues>,
) -> Response {
    let result = state
        .vetting
        .record_outcome(&caller, &id, &form.outcome_request())
        .await
        .map(|_| ());
    after(&state, &caller, &id, "recorded", result, form).await
}

async fn correct(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
    Form(form): Form<FormValues>,
) -> Response {
    let result = state
        .vetting
        .correct_outcome(&caller, &id, &form.outcome_request())
        .await
        .map(|_| ());
    after(&state, &caller, &id, "corrected", result, form).await
}
