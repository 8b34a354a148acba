//! The notification service's HTTP API: deliveries and their state, a retry
//! for a failed one, the gateway's status callbacks, and the OpenAPI
//! document. The scaffold adds the operational routes and the rest of the
//! tail every router has (`pathway_common::http::finish`).
//!
//! - [`deliveries`]: a referral's deliveries, deliveries by status, retry.
//! - [`callbacks`]: a Notify-compatible gateway's status callbacks.
//! - [`signing_keys`]: the public keys webhooks are verified with.
//! - [`types`]: request and response bodies.
//! - [`error`]: the one place errors become HTTP answers.

pub mod callbacks;
pub mod deliveries;
pub mod error;
pub mod signing_keys;
pub mod types;

use axum::routing::{get, post};
use axum::{Json, Router};
use pathway_common::http::dead_letters::{
    self, DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay,
};
use pathway_common::http::{BearerAuth, CommonAnswers, ErrorBody, FieldError};
use utoipa::OpenApi;

use crate::application::Notifications;
use crate::domain::{ChannelKind, Recipient, Status};
use types::{DeliveryList, DeliveryPage, DeliveryView, GatewayCallbackBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway notification",
        description = "Who was told what about a referral, on which channel, and whether it reached them: the referrer, the patient and the receiving service. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(
        dead_letters::list_dead_letters, dead_letters::get_dead_letter, dead_letters::replay_dead_letter, dead_letters::replay_dead_letters,
        deliveries::referral_deliveries,
        deliveries::list_deliveries,
        deliveries::retry_delivery,
        callbacks::notify_callback,
        deliveries::erasure_report
    ),
    components(schemas(DeadLetterPage, DeadLetterView, ReplayReport, SkippedReplay, DeliveryList, DeliveryPage, DeliveryView, GatewayCallbackBody, Recipient, ChannelKind, Status, ErrorBody, FieldError, pathway_common::erasure::ErasureReport, pathway_common::erasure::ErasedReferral)),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The service's own routes, with its state.
pub fn routes(notifications: Notifications) -> Router {
    Router::new()
        .route(
            "/v1/referrals/{id}/deliveries",
            get(deliveries::referral_deliveries),
        )
        .route("/v1/deliveries", get(deliveries::list_deliveries))
        .route(
            "/v1/deliveries/{id}/retry",
            post(deliveries::retry_delivery),
        )
        .route("/v1/callbacks/notify", post(callbacks::notify_callback))
        .route("/v1/erasures/{id}", get(deliveries::erasure_report))
        .route(signing_keys::PATH, get(signing_keys::signing_keys))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(notifications)
}
