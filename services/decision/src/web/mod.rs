//! The decision service's HTTP API: a referral's decisions, a board's audit
//! trail, and the OpenAPI document. The scaffold adds the operational
//! routes, the JSON 404 and the rest of the tail (`pathway_common::http::finish`).
//!
//! - [`decisions`] and [`audit`]: the handlers, by resource.
//! - [`types`]: the response bodies.
//! - [`error`]: the one place an application error becomes an HTTP answer.

use axum::routing::get;
use axum::{Json, Router};
use pathway_common::audit::{AuditPage, AuditRow};
use pathway_common::http::dead_letters::{
    self, DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
};
use pathway_common::http::{BearerAuth, CommonAnswers, ErrorBody, FieldError};
use utoipa::OpenApi;

use crate::application::Decisions;
use crate::domain::WindowState;

pub mod audit;
pub mod decisions;
pub mod error;
pub mod types;

use types::{DecisionHistory, DecisionView, OptInView, OutcomeView};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway decision",
        description = "The decisions made on referrals to the chronic pain service: each vetting outcome, with corrections kept beside what they corrected. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(dead_letters::list_dead_letters, dead_letters::get_dead_letter, dead_letters::replay_dead_letter, dead_letters::replay_dead_letters, decisions::get_decision, audit::audit_trail),
    components(schemas(DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay, DecisionHistory, DecisionView, OutcomeView, OptInView, WindowState, AuditPage, AuditRow, ErrorBody, FieldError)),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The service's own routes, with its state applied.
pub fn routes(decisions: Decisions) -> Router {
    Router::new()
        .route("/v1/referrals/{id}/decision", get(decisions::get_decision))
        .route("/v1/boards/{board}/audit", get(audit::audit_trail))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(decisions)
}
