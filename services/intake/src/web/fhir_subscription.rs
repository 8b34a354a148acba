//! FHIR R4 `Subscription`s (rest-hook) to referrals' Tasks, so that a GP
//! system is told of a change instead of polling `GET /fhir/Task`:
//! `POST /fhir/Subscription`, `GET` and `DELETE /fhir/Subscription/{id}`
//! (only by the token subject that made it).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pathway_common::auth::Caller;

use super::appointments::{FHIR_JSON, OperationOutcome};
use crate::application::subscriptions::SubscribeError;
use crate::application::{Error, Intake};
use crate::domain::fhir::subscription::{self, SubscriptionView};

fn answer(status: StatusCode, view: &SubscriptionView) -> Response {
    let mut response = (status, axum::Json(subscription::resource(view))).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

fn error_answer(error: Error) -> Response {
    match error {
        Error::NotFound(message) => {
            OperationOutcome::one("error", "not-found", message, Some("Subscription.id"))
                .answer(StatusCode::NOT_FOUND)
        }
        Error::Forbidden(denied) => OperationOutcome::one(
            "error",
            "forbidden",
            denied.to_string(),
            Some(subscription::CRITERIA_PATH),
        )
        .answer(StatusCode::FORBIDDEN),
        Error::Unavailable(cause) => {
            tracing::warn!(error = ?cause, "FHIR Subscription answer: the database did not answer");
            OperationOutcome::unavailable("nothing was changed, try again shortly")
        }
        other => {
            tracing::error!(error = ?other, "FHIR Subscription answer failed");
            OperationOutcome::internal("an internal error")
        }
    }
}

/// Subscribe to changes of the Tasks of one practice's referrals:
/// `criteria` `Task?requester=[system|]<practice code>` (optionally
/// `&owner=[system|]<board>`, needed with a token for every board),
/// `channel.type` `rest-hook`, `channel.endpoint` an https URL on every
/// covered board's `notification.allowed_hosts`, `channel.payload` absent
/// (an empty POST to the endpoint on each change) or
/// `application/fhir+json` (the Task PUT to `<endpoint>/Task/<id>`), and
/// `channel.header` `Name: value` strings sent with each notification
/// (echoed with their values masked). A referrer is told of its own
/// referrals, a clinician of its boards'. Answered with the Subscription,
/// `status` `active`; a subscriber answering a notification with a 4xx
/// puts it in `error`, with the reason in `error`.
#[utoipa::path(
    post, path = "/fhir/Subscription", tag = "referrals",
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Subscription (rest-hook) to Tasks"),
    responses(
        (status = 201, description = "Active; Location is the Subscription", content_type = "application/fhir+json"),
        (status = 400, description = "Not a FHIR Subscription in JSON", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not a referrer or clinician, a board the token may not act for, or another referrer's practice", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Elements not valid (criteria, endpoint not allowed by the board): each issue names its element by FHIRPath", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn post_subscription(
    State(intake): State<Intake>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Response {
    let request = match subscription::parse(&body) {
        Ok(request) => request,
        Err(issues) => {
            let status = if subscription::not_a_subscription(&issues) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return OperationOutcome::of_issues(issues).answer(status);
        }
    };
    match intake.subscribe(&caller, request).await {
        Ok(view) => {
            let mut response = answer(StatusCode::CREATED, &view);
            if let Ok(location) = HeaderValue::from_str(&format!("/fhir/Subscription/{}", view.id))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(SubscribeError::Invalid(issues)) => {
            OperationOutcome::of_issues(issues).answer(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(SubscribeError::Application(error)) => error_answer(error),
    }
}

/// A Subscription this token made: its status, and the last `error`.
#[utoipa::path(
    get, path = "/fhir/Subscription/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "A FHIR R4 Subscription", content_type = "application/fhir+json"),
        (status = 404, description = "No such Subscription that this token made", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn get_subscription(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match intake.subscription(&caller, &id).await {
        Ok(view) => answer(StatusCode::OK, &view),
        Err(error) => error_answer(error),
    }
}

/// Delete a Subscription this token made: nothing more is sent for it.
#[utoipa::path(
    delete, path = "/fhir/Subscription/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such Subscription that this token made", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn delete_subscription(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match intake.unsubscribe(&caller, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error_answer(error),
    }
}
