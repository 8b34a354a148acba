//! The clinician web pages: server-rendered HTML that works without
//! JavaScript and with the keyboard alone. Every page calls the same use
//! cases as the JSON API, so the rules (claims, leases, the red-flag
//! override, the audit trail) are the same in both.
//!
//! Sign-in (the shared [`pages::SignIn`], set up by [`sign_in`]): the
//! embedded default accepts a development token (from `pathway token`) and
//! keeps it in an HttpOnly, SameSite=Strict cookie. Every form that changes
//! something is read through [`Posted`]: from this origin, with a token made
//! for the signed-in clinician ([`pathway_common::csrf`]), or refused 403.
//! Production puts the board's OpenID Connect sign-in in front, which passes
//! the clinician's token in the `Authorization` header (see
//! `deploy/README.md`). Then the worklist ([`worklist`]), a referral
//! ([`referral`]) and what a clinician does to it ([`actions`]).

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pathway_common::auth::{Caller, Role};
use pathway_common::http::ApiError;
use pathway_common::{csrf, pages};
use serde::de::DeserializeOwned;

use super::AppState;

mod actions;
mod referral;
mod worklist;

const COOKIE: &str = "pathway_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/worklist") }))
        .route("/worklist", get(worklist::page))
        .route("/referrals/{id}", get(referral::page))
        .route("/referrals/{id}/claim", post(actions::claim))
        .route("/referrals/{id}/release", post(actions::release))
        .route("/referrals/{id}/information-requests", post(actions::ask))
        .route("/referrals/{id}/outcome", post(actions::record))
        .route("/referrals/{id}/correction", post(actions::correct))
        .merge(pages::asset_routes())
}

/// `/sign-in` and `/sign-out`, for clinicians.
pub fn sign_in(state: &AppState) -> Router {
    pages::SignIn {
        service: "Pathway vetting",
        home: "/worklist",
        cookie: COOKIE,
        roles: &[Role::Clinician],
        people: "clinicians",
        refused: "the vetting pages are for clinicians",
        expired: "your session has ended or the token is not a clinician's: sign in again",
        token_command: r#"pathway token --role clinician --board highland --name "Dr Jane Doe""#,
        footer: FOOTER.to_owned(),
        secure_cookies: state.secure_cookies,
        auth: state.vetting.platform.auth.clone(),
    }
    .routes()
}

/// The footer of every page.
const FOOTER: &str = "Pathway – the remote vetting pathway for chronic pain referrals. Patient information on these pages is confidential: every view is recorded.";

pub struct Session(pub Caller);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        pages::signed_in(parts, state, COOKIE, &[Role::Clinician])
            .await
            .map(Session)
    }
}

/// A form posted by a signed-in clinician: from this origin, with the
/// clinician's token, or refused before anything is read or changed.
pub struct Posted<T>(pub Caller, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        pages::signed_in_form(request, state, COOKIE, &[Role::Clinician])
            .await
            .map(|(caller, form)| Posted(caller, form))
    }
}

/// The token `caller`'s forms carry.
pub(super) fn form_token(caller: &Caller) -> String {
    csrf::session_token(COOKIE, caller)
}

pub(super) fn display_name(caller: &Caller) -> String {
    caller
        .name
        .clone()
        .unwrap_or_else(|| caller.subject.clone())
}

pub(super) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            ApiError::Internal(anyhow::anyhow!("page cannot be rendered: {error}")).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    signed_in_as: Option<String>,
    csrf: String,
    title: String,
    message: String,
    back: String,
    back_text: String,
}

pub(super) fn problem_page(
    caller: &Caller,
    error: &ApiError,
    back: &str,
    back_text: &str,
) -> Response {
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
        ApiError::Unavailable { what, cause } => {
            tracing::warn!(error = format!("{cause:#}"), "{what} did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                format!(
                    "{what} did not answer, so nothing was changed. Try again in a few seconds."
                ),
            )
        }
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
            csrf: form_token(caller),
            title: title.to_owned(),
            message,
            back: back.to_owned(),
            back_text: back_text.to_owned(),
        },
        status,
    )
}

pub(super) fn short(id: &str) -> String {
    // UUIDv7 ids share their leading (time) digits; the tail tells them apart.
    id.rsplit('-')
        .next()
        .unwrap_or(id)
        .chars()
        .take(8)
        .collect()
}
