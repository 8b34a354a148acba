//! Vetting over HTTP: the JSON API for clinicians and board admins
//! ([`api`]), its OpenAPI document, the clinician web pages ([`pages`]),
//! the request types ([`types`]) and the one place errors become HTTP
//! ([`error`]). The shared tail (operational routes, body limit, metrics,
//! the authenticator) is added by `pathway_common::http::finish`.

use axum::routing::{get, post};
use axum::{Json, Router};
use pathway_common::audit::{AuditPage, AuditRow};
use pathway_common::erasure::{ErasedReferral, ErasureReport};
use pathway_common::http::dead_letters::{
    self, DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
};
use pathway_common::http::{BearerAuth, CommonAnswers, ErrorBody, FieldError};
use utoipa::OpenApi;

use crate::application::{
    ActionResult, InformationRequestView, OutcomeView, ReferralDetail, Vetting, Worklist,
    WorklistRow,
};
use crate::domain::outcome::OutcomeRequest;
use crate::domain::status::Status;

pub mod api;
pub mod error;
pub mod pages;
pub mod types;

use types::InformationRequestBody;

/// What every handler and page reads.
#[derive(Clone)]
pub struct AppState {
    pub vetting: Vetting,
    pub secure_cookies: bool,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway vetting",
        description = "The clinicians' worklists: claim a referral, ask the referrer for information, record an outcome. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason. The same service serves the clinician web pages at `/`.",
        version = "1"
    ),
    paths(
        dead_letters::list_dead_letters, dead_letters::get_dead_letter, dead_letters::replay_dead_letter, dead_letters::replay_dead_letters,
        api::worklist, api::referral, api::claim, api::release, api::request_information,
        api::record_outcome, api::correct_outcome, api::audit_trail, api::erasure_report
    ),
    components(schemas(
        DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
        Worklist, WorklistRow, ReferralDetail, InformationRequestView, OutcomeView, OutcomeRequest,
        ActionResult, InformationRequestBody, AuditPage, AuditRow, ErrorBody, FieldError, Status,
        ErasureReport, ErasedReferral
    )),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Vetting's own routes: the API, `/openapi.json` and the pages.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/boards/{board}/worklist", get(api::worklist))
        .route("/v1/boards/{board}/audit", get(api::audit_trail))
        .route("/v1/erasures/{id}", get(api::erasure_report))
        .route("/v1/referrals/{id}", get(api::referral))
        .route("/v1/referrals/{id}/claim", post(api::claim))
        .route("/v1/referrals/{id}/release", post(api::release))
        .route(
            "/v1/referrals/{id}/information-requests",
            post(api::request_information),
        )
        .route("/v1/referrals/{id}/outcome", post(api::record_outcome))
        .route("/v1/referrals/{id}/correction", post(api::correct_outcome))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(pages::routes())
        .with_state(state.clone())
        .merge(pages::sign_in(&state))
}
