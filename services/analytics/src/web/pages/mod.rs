//! The pages: sign-in and the dashboard, server-rendered, with no
//! JavaScript.
//!
//! Sign-in is the shared [`pages::SignIn`], as in the clinician pages:
//! behind the board's OpenID Connect proxy the token arrives in the
//! `Authorization` header; on the embedded default an evaluator pastes a
//! development token, kept in an HttpOnly, SameSite=Strict cookie of its own
//! (cookies are per host, not per port, so the name differs from the
//! vetting pages'). Its one form, signing out, carries the token and passes
//! the origin check of [`pathway_common::csrf`].
//!
//! - [`dashboard`]: the dashboard page; [`lead`]: what it leads with, before
//!   and after adoption and the PHS weeks bands; [`charts`]: its SVG bar charts.

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use pathway_common::auth::{Caller, Role};
use pathway_common::http::ApiError;
use pathway_common::pages;

use super::AppState;
use crate::application::Analytics;

mod charts;
mod dashboard;
mod lead;

const COOKIE: &str = "pathway_analytics_session";

/// The pages' routes: `/` to the dashboard, signing in and out, the
/// dashboard, the stylesheet.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(dashboard::dashboard))
        .merge(pages::asset_routes())
}

/// A signed-in evaluator or board admin; anyone else goes to sign in.
pub struct Session(pub Caller);

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

/// `/sign-in` and `/sign-out`, for evaluators and board admins.
pub fn sign_in(analytics: &Analytics, secure_cookies: bool) -> Router {
    let threshold = analytics.rules.suppression_threshold.saturating_sub(1);
    pages::SignIn {
        service: "Pathway analytics",
        home: "/dashboard",
        cookie: COOKIE,
        roles: &ROLES,
        people: "evaluators",
        refused: "the dashboard is for evaluators and board admins",
        expired: "your session has ended or the token is not an evaluator's or a board admin's: sign in again",
        token_command: "pathway token --role evaluator --board highland",
        footer: format!(
            "Pathway – the remote vetting pathway for chronic pain referrals. Aggregates only: counts from 1 to {threshold} and anything that would reveal them are shown as *."
        ),
        secure_cookies,
        auth: analytics.platform.auth.clone(),
    }
    .routes()
}

pub(super) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            ApiError::Internal(anyhow::anyhow!("page cannot be rendered: {error}")).into_response()
        }
    }
}

pub(super) fn threshold_less_one(state: &AppState) -> u64 {
    state
        .analytics
        .rules
        .suppression_threshold
        .saturating_sub(1)
}
