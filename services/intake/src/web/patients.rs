//! A patient's requests about their data, for a board admin: erase it,
//! restrict its processing, lift a restriction
//! (`POST /v1/boards/{board}/patient-requests`), and what a request did
//! (`GET /v1/boards/{board}/patient-requests/{id}`). Vetting and
//! notification report their part under the same id
//! (`GET /v1/erasures/{id}` on each).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError, JsonBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::application::Intake;
use crate::application::patients::{PatientRequest, RequestKind, RequestRecord};
use crate::store::patients::Touched;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientDataRequest {
    /// `erase`, `restrict` or `lift`.
    pub kind: String,
    /// The patient's CHI number: every referral of theirs with the board.
    pub chi: Option<String>,
    /// Or one referral, by id.
    pub referral_id: Option<String>,
    /// The reference of the patient's request, for the audit trail.
    pub reason: Option<String>,
}

/// What a request did in intake.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientDataRequestView {
    pub id: String,
    pub board: String,
    pub kind: String,
    /// The patient's referrals with the board that it covered.
    pub referral_ids: Vec<String>,
    /// Rows intake emptied or removed (erasure), or referrals changed.
    pub referrals: u64,
    pub information_requests: u64,
    pub opt_in_links: u64,
    pub fhir_notifications: u64,
    pub idempotency_keys: u64,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// What to expect next, in words.
    pub message: String,
}

impl From<RequestRecord> for PatientDataRequestView {
    fn from(record: RequestRecord) -> Self {
        let Touched {
            referrals,
            information_requests,
            opt_in_links,
            fhir_notifications,
            idempotency_keys,
        } = record.touched;
        let message = match (record.kind, record.referral_ids.is_empty(), referrals) {
            (_, true, _) => format!(
                "intake holds no referral of this patient with {}: nothing to do",
                record.board
            ),
            (RequestKind::Erase, false, 0) => {
                "already erased: nothing left to remove".to_owned()
            }
            (RequestKind::Erase, false, _) => {
                "erased in intake; vetting and notification erase their part on the stream: follow it with GET /v1/erasures/{id} on each".to_owned()
            }
            (RequestKind::Restrict, false, 0) => "already restricted".to_owned(),
            (RequestKind::Restrict, false, _) => {
                "restricted: nothing is given out or shown on the worklist until the restriction is lifted".to_owned()
            }
            (RequestKind::Lift, false, 0) => "not restricted: nothing to lift".to_owned(),
            (RequestKind::Lift, false, _) => "restriction lifted: processing resumes".to_owned(),
        };
        Self {
            id: record.id,
            board: record.board.code().to_owned(),
            kind: record.kind.as_str().to_owned(),
            referral_ids: record.referral_ids,
            referrals,
            information_requests,
            opt_in_links,
            fhir_notifications,
            idempotency_keys,
            requested_by: record.requested_by,
            requested_at: record.requested_at,
            message,
        }
    }
}

/// Act on a patient's request to erase their data, restrict its
/// processing, or lift a restriction. Safe to repeat.
#[utoipa::path(
    post, path = "/v1/boards/{board}/patient-requests", tag = "patients",
    request_body = PatientDataRequest,
    params(("board" = String, Path, description = "Board code")),
    responses(
        (status = 201, body = PatientDataRequestView),
        (status = 403, description = "Not a board admin of this board", body = ErrorBody),
        (status = 404, description = "Unknown board, or no such referral with it", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong", body = ErrorBody),
    )
)]
pub(super) async fn act_on_request(
    State(intake): State<Intake>,
    caller: Caller,
    Path(board): Path<String>,
    JsonBody(request): JsonBody<PatientDataRequest>,
) -> Result<(StatusCode, Json<PatientDataRequestView>), ApiError> {
    let kind = match request.kind.trim() {
        "erase" => RequestKind::Erase,
        "restrict" => RequestKind::Restrict,
        "lift" => RequestKind::Lift,
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "kind",
                "must be one of erase, restrict, lift",
            )]));
        }
    };
    let record = intake
        .act_on_patient_request(
            &caller,
            &board,
            kind,
            PatientRequest {
                chi: request.chi.as_deref(),
                referral_id: request.referral_id.as_deref(),
                reason: request.reason.as_deref(),
            },
            Utc::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// What a patient's request did in intake.
#[utoipa::path(
    get, path = "/v1/boards/{board}/patient-requests/{id}", tag = "patients",
    params(
        ("board" = String, Path, description = "Board code"),
        ("id" = String, Path, description = "The request's id"),
    ),
    responses(
        (status = 200, body = PatientDataRequestView),
        (status = 403, description = "Not a board admin of this board", body = ErrorBody),
        (status = 404, description = "No such request for this board", body = ErrorBody),
    )
)]
pub(super) async fn get_request(
    State(intake): State<Intake>,
    caller: Caller,
    Path((board, id)): Path<(String, String)>,
) -> Result<Json<PatientDataRequestView>, ApiError> {
    Ok(Json(
        intake.patient_request(&caller, &board, &id).await?.into(),
    ))
}
