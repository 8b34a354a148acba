//! What a clinician does to a referral from its page: claim, release, ask
//! the referrer, record or correct the outcome. Each goes back to the
//! referral with a notice, or shows the page again with the problem.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use pathway_common::auth::Caller;
use pathway_common::http::ApiError;
use serde::Deserialize;

use super::referral::{FormValues, show_referral};
use super::{Posted, problem_page};
use crate::application;
use crate::web::AppState;

/// A form of a button alone (claim, release): its token is all it holds.
#[derive(Deserialize)]
pub(super) struct Button {}

/// After an action: back to the referral page with a notice, or the page
/// again with the problem shown (and the fields' errors next to them).
async fn after(
    state: &AppState,
    caller: &Caller,
    id: &str,
    done: &str,
    result: Result<(), application::Error>,
    form: FormValues,
) -> Response {
    match result.map_err(ApiError::from) {
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

pub(super) async fn claim(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(caller, Button {}): Posted<Button>,
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

pub(super) async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(caller, Button {}): Posted<Button>,
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

pub(super) async fn ask(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(caller, form): Posted<FormValues>,
) -> Response {
    let result = state
        .vetting
        .request_information(&caller, &id, Some(&form.question))
        .await
        .map(|_| ());
    after(&state, &caller, &id, "asked", result, form).await
}

pub(super) async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(caller, form): Posted<FormValues>,
) -> Response {
    let result = state
        .vetting
        .record_outcome(&caller, &id, &form.outcome_request())
        .await
        .map(|_| ());
    after(&state, &caller, &id, "recorded", result, form).await
}

pub(super) async fn correct(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(caller, form): Posted<FormValues>,
) -> Response {
    let result = state
        .vetting
        .correct_outcome(&caller, &id, &form.outcome_request())
        .await
        .map(|_| ());
    after(&state, &caller, &id, "corrected", result, form).await
}
