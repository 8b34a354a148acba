//! A referral as the clinician sees it: the patient and clinical content,
//! questions and answers, what was done, and the forms for what may be
//! done next.

use std::borrow::Borrow;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, FieldError};
use pathway_proto::board::{BoardSettings, OUTCOME_CODES};
use serde::Deserialize;

use super::{Session, display_name, form_token, problem_page, render, short};
use crate::application::ReferralDetail;
use crate::domain::outcome::{MODES, OutcomeRequest, PRIORITIES, REJECTION_REASONS};
use crate::domain::{in_words, when};
use crate::intake::ReferralContent;
use crate::web::AppState;

/// What the clinician typed, kept when a form comes back with errors.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct FormValues {
    #[serde(default)]
    pub(super) question: String,
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
    pub(super) fn outcome_request(&self) -> OutcomeRequest {
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

/// Codes in words, `; ` between them.
fn listed(codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| in_words(c))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ClinicalView {
    fn from(referral: &ReferralContent) -> Self {
        let (patient, clinical) = (&referral.patient, &referral.clinical);
        let impact = [
            ("function", &clinical.impact.function),
            ("sleep", &clinical.impact.sleep),
            ("mood", &clinical.impact.mood),
        ]
        .iter()
        .filter(|(_, level)| !level.is_empty())
        .map(|(k, level)| format!("{k}: {level}"))
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
                patient.given_name.expose(),
                patient.family_name.expose()
            )
            .trim()
            .to_owned(),
            chi: patient.chi.expose().clone(),
            date_of_birth: patient.date_of_birth.expose().clone(),
            postcode: patient.postcode.expose().clone(),
            accessibility: listed(&patient.accessibility_needs),
            referrer: format!(
                "{}, practice {}",
                referral.referrer.clinician_name, referral.referrer.practice_code
            ),
            sites: none(listed(&clinical.pain_sites)),
            impact: none(impact),
            current_treatments: none(listed(&clinical.current_treatments)),
            previous_treatments: none(listed(&clinical.previous_treatments)),
            question: none(clinical.question.clone()),
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
    csrf: String,
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
    /// On Scotland's clock.
    fn date_time<T: Borrow<DateTime<Utc>>>(&self, at: &T) -> String {
        when::date_time(*at.borrow())
    }
    /// On Scotland's clock.
    fn time<T: Borrow<DateTime<Utc>>>(&self, at: &T) -> String {
        when::time(*at.borrow())
    }
    fn can(&self, action: &str) -> bool {
        self.detail.allows(action)
    }
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.reason.as_str())
    }
}

#[derive(Deserialize, Default)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn page(
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
pub(super) async fn show_referral(
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
        Err(error) => {
            let error = ApiError::from(error);
            return problem_page(caller, &error, "/worklist", "Back to your worklist");
        }
    };
    let settings = state
        .vetting
        .settings_of(detail.row.board)
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
        csrf: form_token(caller),
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
            when::date_time(at)
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
        .await
        .map_err(ApiError::from)?;
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
            "referral.information_request_overdue" => {
                "The question was overdue: the referrer was reminded".to_owned()
            }
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
            at: when::date_time(at),
            text,
        })
        .collect())
}
