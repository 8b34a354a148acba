//! Intake's HTTP API: referrals (native JSON), boards, the home page and the
//! OpenAPI document. The handlers turn requests into use cases and outcomes
//! into answers; `error.rs` is the one place errors become HTTP.
//!
//! - [`referrals`], [`boards`]: the handlers, by resource.
//! - [`appointments`]: what the board's hospital system reports (FHIR and CSV).
//! - [`fhir`]: referrals as FHIR R4 Bundles, the Questionnaire, the CapabilityStatement.
//! - [`fhir_task`]: a referral's status as a FHIR `Task` (read and search), the
//!   answer to a clinician's question as a `Communication`.
//! - [`fhir_subscription`]: FHIR `Subscription`s (rest-hook) to Tasks' changes.
//! - [`home`]: the page for a browser.
//! - [`opt_in`]: the patient's opt-in pages.
//! - [`types`]: request and response bodies.

use axum::routing::{get, post, put};
use axum::{Json, Router};
use pathway_common::http::dead_letters::{
    self, DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
};
use pathway_common::http::{BearerAuth, CommonAnswers, ErrorBody, FieldError};
use utoipa::OpenApi;

use crate::application::Intake;
use crate::domain::referral::{
    AddressRequest, ClinicalRequest, ContactRequest, ImpactRequest, PatientRequest,
    ReferralRequest, ReferrerRequest,
};
use types::{
    BoardSettingsChangeView, BoardSettingsView, BoardView, HistoryEntry, InformationAnswer,
    InformationRequestView, PathwayChangeView, PathwaySwitch, ReferralCreated, ReferralView,
    RejectionReasonBody, WithdrawRequest,
};

mod appointments;
mod boards;
mod error;
mod fhir;
mod fhir_subscription;
mod fhir_task;
mod home;
mod opt_in;
mod patients;
mod referrals;
pub mod types;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway intake",
        description = "Referrals to the chronic pain service as GP systems send them, the boards' switch onto the remote pathway, and first appointments as the boards' hospital systems report them. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(
        dead_letters::list_dead_letters, dead_letters::get_dead_letter, dead_letters::replay_dead_letter, dead_letters::replay_dead_letters,
        referrals::submit_referral, referrals::get_referral, referrals::withdraw,
        referrals::provide_information, boards::list_boards, boards::switch_pathway,
        boards::get_board_settings, boards::set_board_settings,
        patients::act_on_request, patients::get_request,
        appointments::post_fhir_appointment, appointments::import_appointments,
        fhir::post_referral_bundle, fhir::get_questionnaire, fhir::metadata,
        fhir_task::get_task, fhir_task::search_tasks, fhir_task::post_communication,
        fhir_subscription::post_subscription, fhir_subscription::get_subscription,
        fhir_subscription::delete_subscription
    ),
    components(schemas(
        DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
        ReferralRequest, PatientRequest, ContactRequest, AddressRequest, ReferrerRequest, ClinicalRequest,
        ImpactRequest, ReferralCreated, ReferralView, HistoryEntry, InformationRequestView, WithdrawRequest,
        InformationAnswer, PathwaySwitch, BoardView, PathwayChangeView, BoardSettingsView,
        BoardSettingsChangeView, ErrorBody, FieldError, RejectionReasonBody,
        appointments::OperationOutcome, appointments::OutcomeMeta, appointments::OutcomeIssue,
        crate::application::appointments::AppointmentImport,
        patients::PatientDataRequest, patients::PatientDataRequestView
    )),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Intake's own routes, with its state; `pathway_common::http::finish` adds
/// the rest (operational routes, 404, body limit, authenticator, metrics,
/// tracing).
pub fn routes(intake: Intake) -> Router {
    Router::new()
        .route("/v1/referrals", post(referrals::submit_referral))
        .route("/v1/referrals/{id}", get(referrals::get_referral))
        .route("/v1/referrals/{id}/withdraw", post(referrals::withdraw))
        .route(
            "/v1/referrals/{id}/information",
            post(referrals::provide_information),
        )
        .route("/v1/boards", get(boards::list_boards))
        .route("/v1/boards/{board}/pathway", put(boards::switch_pathway))
        .route(
            "/v1/boards/{board}/patient-requests",
            post(patients::act_on_request),
        )
        .route(
            "/v1/boards/{board}/patient-requests/{id}",
            get(patients::get_request),
        )
        .route(
            "/v1/boards/{board}/settings",
            get(boards::get_board_settings).put(boards::set_board_settings),
        )
        .route(
            "/fhir/Appointment",
            post(appointments::post_fhir_appointment),
        )
        .route("/fhir/Bundle", post(fhir::post_referral_bundle))
        .route(
            "/fhir/Questionnaire/pain-referral",
            get(fhir::get_questionnaire),
        )
        .route("/fhir/metadata", get(fhir::metadata))
        .route("/fhir/Task", get(fhir_task::search_tasks))
        .route("/fhir/Task/{id}", get(fhir_task::get_task))
        .route("/fhir/Communication", post(fhir_task::post_communication))
        .route(
            "/fhir/Subscription",
            post(fhir_subscription::post_subscription),
        )
        .route(
            "/fhir/Subscription/{id}",
            get(fhir_subscription::get_subscription).delete(fhir_subscription::delete_subscription),
        )
        .route(
            "/v1/boards/{board}/appointments.csv",
            post(appointments::import_appointments),
        )
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/", get(home::home))
        .route("/opt-in", get(opt_in::code_form).post(opt_in::enter_code))
        .route("/opt-in/{token}", get(opt_in::show).post(opt_in::opt_in))
        .merge(pathway_common::pages::asset_routes())
        .with_state(intake)
}
