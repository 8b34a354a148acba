//! The referral API: send one, read it, withdraw it, answer a request for
//! information. Every change carries the version it was based on
//! (`If-Match` / ETag).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError, JsonBody};

use super::types::{InformationAnswer, ReferralCreated, ReferralView, WithdrawRequest};
use crate::application::Intake;
use crate::application::referrals::Submitted;
use crate::domain::referral::ReferralRequest;

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        )
        .with_fields(vec![FieldError::new(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        )]));
    }
    Ok(Some(key.to_owned()))
}

fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        ApiError::bad_request("If-Match must be the ETag of the referral, e.g. \"3\"").with_fields(
            vec![FieldError::new(
                "If-Match",
                "not an ETag this service issued",
            )],
        )
    })
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Send a referral.
#[utoipa::path(
    post, path = "/v1/referrals", tag = "referrals",
    request_body = ReferralRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second referral")),
    responses(
        (status = 201, description = "Received: on the remote pathway (`awaiting_vetting`) or handed on (`routed_standard`): to the board's paediatric service (route `paediatric`) when the patient is under its paediatric age, else to its standard route (route `standard`) when the board is not on the pathway, on the Scottish day of receipt", body = ReferralCreated),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a referrer, or not for this board", body = ErrorBody),
        (status = 409, description = "The patient has an open referral with this board (rejection reason 01); `open_referral_id` names it only to the referrer who sent it", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Fields not valid (rejection reason 03, or 02 without consent)", body = ErrorBody),
    )
)]
pub(super) async fn submit_referral(
    State(intake): State<Intake>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the referral as JSON with `Content-Type: application/json`",
        ));
    }
    let request: ReferralRequest = pathway_common::http::parse_json(&body)?;
    let (status, created) = match intake
        .submit_referral(&caller, key.as_deref(), &body, request, chrono::Utc::now())
        .await?
    {
        // A replay answers exactly as the first time did.
        Submitted::Created(summary) | Submitted::Replayed(summary) => {
            (StatusCode::CREATED, ReferralCreated::from(summary))
        }
    };
    let location = HeaderValue::from_str(&format!("/v1/referrals/{}", created.id))
        .unwrap_or_else(|_| HeaderValue::from_static("/v1/referrals"));
    Ok((
        status,
        [
            (header::LOCATION, location),
            (header::ETAG, etag(created.version)),
        ],
        Json(created),
    )
        .into_response())
}

/// A referral, its status, what may be done now, and its history.
#[utoipa::path(
    get, path = "/v1/referrals/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = ReferralView, headers(("ETag" = String, description = "Send it back in If-Match"))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 403, description = "Not a role that reads referrals", body = ErrorBody),
        (status = 404, description = "No such referral that this token may see", body = ErrorBody),
    )
)]
pub(super) async fn get_referral(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = ReferralView::from(intake.get_referral(&caller, &id).await?);
    Ok(([(header::ETAG, etag(view.version))], Json(view)).into_response())
}

/// Withdraw a referral that is still open.
#[utoipa::path(
    post, path = "/v1/referrals/{id}/withdraw", tag = "referrals",
    request_body = WithdrawRequest,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag last read")),
    responses(
        (status = 200, body = ReferralCreated),
        (status = 400, description = "The id is not a UUID, or If-Match is not an ETag", body = ErrorBody),
        (status = 403, description = "Not the referrer", body = ErrorBody),
        (status = 404, description = "No such referral that this token may see", body = ErrorBody),
        (status = 409, description = "Not open any more", body = ErrorBody),
        (status = 412, description = "Changed since it was read", body = ErrorBody),
    )
)]
pub(super) async fn withdraw(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<WithdrawRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let answer = ReferralCreated::from(
        intake
            .withdraw(&caller, &id, version, &request.reason_code)
            .await?,
    );
    Ok(([(header::ETAG, etag(answer.version))], Json(answer)).into_response())
}

/// Answer a clinician's request for more information.
#[utoipa::path(
    post, path = "/v1/referrals/{id}/information", tag = "referrals",
    request_body = InformationAnswer,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag last read")),
    responses(
        (status = 200, body = ReferralCreated),
        (status = 400, description = "The id is not a UUID, or If-Match is not an ETag", body = ErrorBody),
        (status = 403, description = "Not the referrer", body = ErrorBody),
        (status = 404, description = "No such referral that this token may see", body = ErrorBody),
        (status = 409, description = "No information was asked for", body = ErrorBody),
        (status = 412, description = "Changed since it was read", body = ErrorBody),
    )
)]
pub(super) async fn provide_information(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<InformationAnswer>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let answer = ReferralCreated::from(
        intake
            .provide_information(
                &caller,
                &id,
                version,
                request.information_request_id.as_deref(),
                &request.answer,
            )
            .await?,
    );
    Ok(([(header::ETAG, etag(answer.version))], Json(answer)).into_response())
}
