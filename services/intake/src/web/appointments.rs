//! Appointments from the board's hospital system (PAS): `POST
//! /fhir/Appointment` (one FHIR R4 `Appointment`, answered with FHIR
//! `OperationOutcome`s) and `POST /v1/boards/{board}/appointments.csv` (an
//! extract, all or nothing, answered as every Pathway API answers).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use pathway_proto::BoardCode;
use pathway_proto::board::BOARD_CODES;
use serde::Serialize;

use crate::application::Intake;
use crate::application::appointments::{AppointmentError, AppointmentImport, Recorded};
use crate::domain::appointment::fhir::{self, Issue};
use crate::domain::appointment::{Change, Refused};
use crate::domain::fhir::uk_core;

/// FHIR's JSON media type.
pub(super) const FHIR_JSON: &str = "application/fhir+json";

/// A FHIR R4 `OperationOutcome`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: String,
    pub meta: OutcomeMeta,
    pub issue: Vec<OutcomeIssue>,
}

/// `OperationOutcome.meta`: the UK Core profile it follows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeMeta {
    /// `https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome`.
    pub profile: Vec<String>,
}

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeIssue {
    /// `error` for a problem, `information` for what was done.
    pub severity: String,
    /// FHIR issue type, e.g. `required`, `code-invalid`, `not-found`, `conflict`.
    pub code: String,
    /// What happened, in words.
    pub diagnostics: String,
    /// FHIRPath of the element, e.g. `Appointment.basedOn[0]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

impl OperationOutcome {
    pub(super) fn new(issue: Vec<OutcomeIssue>) -> Self {
        Self {
            resource_type: "OperationOutcome".into(),
            meta: OutcomeMeta {
                profile: vec![uk_core::OPERATION_OUTCOME.to_owned()],
            },
            issue,
        }
    }

    pub(super) fn one(
        severity: &str,
        code: &str,
        diagnostics: impl Into<String>,
        expression: Option<&str>,
    ) -> Self {
        Self::new(vec![OutcomeIssue {
            severity: severity.into(),
            code: code.into(),
            diagnostics: diagnostics.into(),
            expression: expression.map(|e| vec![e.to_owned()]).unwrap_or_default(),
        }])
    }

    pub(super) fn answer(self, status: StatusCode) -> Response {
        let mut response = (status, Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        response
    }
}

impl OperationOutcome {
    /// 503 with `Retry-After`: the database did not answer, and `nothing`
    /// (e.g. "nothing was recorded, send it again shortly") says what the
    /// caller should know and do.
    pub(super) fn unavailable(nothing: &str) -> Response {
        let mut response = Self::one(
            "error",
            "transient",
            format!("the database did not answer: {nothing}"),
            None,
        )
        .answer(StatusCode::SERVICE_UNAVAILABLE);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(pathway_common::http::error::RETRY_AFTER_SECONDS),
        );
        response
    }

    /// 500: something that should not happen; `message` says what did not.
    pub(super) fn internal(message: &str) -> Response {
        Self::one("error", "exception", message.to_owned(), None)
            .answer(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Every issue an error, each naming its element.
    pub(super) fn of_issues(issues: Vec<Issue>) -> Self {
        Self::new(
            issues
                .into_iter()
                .map(|issue| OutcomeIssue {
                    severity: "error".into(),
                    code: issue.code.into(),
                    diagnostics: issue.diagnostics,
                    expression: vec![issue.expression],
                })
                .collect(),
        )
    }
}

/// Report a first appointment, or a change to one, from the board's
/// hospital system: a FHIR R4 `Appointment` whose `basedOn` names the
/// referral (`ServiceRequest/<referral id>`), with `status` one of
/// `booked`, `arrived`, `fulfilled`, `noshow`, `cancelled`, `start` (a FHIR
/// instant, needed unless cancelled), `serviceType` coded in
/// `https://pathway.scot.nhs.uk/fhir/CodeSystem/clinic-type` (`pain-clinic`,
/// `pain-psychology`, `physiotherapy`, `pain-management-programme`) and
/// `appointmentType` coded in
/// `https://pathway.scot.nhs.uk/fhir/CodeSystem/appointment-type`
/// (`first`, `follow-up`). The appointment is known by `identifier[0].value`
/// (else `id`): the same report again changes nothing (200). Participants
/// are not stored. Needs the role `hospital_system` for the referral's board.
#[utoipa::path(
    post, path = "/fhir/Appointment", tag = "appointments",
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Appointment"),
    responses(
        (status = 201, description = "Recorded; the issue says which event was published", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 200, description = "Known already: recorded as it was, or nothing changed", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 400, description = "Not a FHIR Appointment in JSON", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not the role hospital_system", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No referral of the token's boards with that id (`expression` is the basedOn entry)", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The appointment was settled otherwise, or is for another referral", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Elements not valid: each issue names its element by FHIRPath", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn post_fhir_appointment(
    State(intake): State<Intake>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Response {
    let parsed = match fhir::parse(&body) {
        Ok(parsed) => parsed,
        Err(found) => {
            let status = if found.iter().any(|i| {
                i.expression == "Appointment" || i.expression == "Appointment.resourceType"
            }) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return OperationOutcome::of_issues(found).answer(status);
        }
    };
    let referral_path = parsed.referral_path.clone();
    match intake
        .record_appointment(&caller, parsed.report, Utc::now())
        .await
    {
        Ok(recorded) => recorded_answer(&recorded),
        Err(error) => fhir_error(error, &referral_path),
    }
}

fn recorded_answer(recorded: &Recorded) -> Response {
    let id = recorded.report.appointment_id.as_str();
    let (status, diagnostics) = match recorded.change {
        Change::Publish(happened) => (
            if recorded.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            format!(
                "appointment {id} recorded: appointment.{} published",
                happened.as_str()
            ),
        ),
        Change::Restate => (
            StatusCode::OK,
            format!(
                "appointment {id} recorded as {}: nothing new to publish",
                recorded.report.status.code()
            ),
        ),
        Change::Repeat => (
            StatusCode::OK,
            format!(
                "appointment {id} is recorded as {} already: nothing changed",
                recorded.report.status.code()
            ),
        ),
    };
    OperationOutcome::one("information", "informational", diagnostics, None).answer(status)
}

fn fhir_error(error: AppointmentError, referral_path: &str) -> Response {
    match error {
        AppointmentError::Invalid(fields) => OperationOutcome::new(
            fields
                .into_iter()
                .map(|f| OutcomeIssue {
                    severity: "error".into(),
                    code: "invalid".into(),
                    diagnostics: f.reason,
                    expression: vec![f.field],
                })
                .collect(),
        )
        .answer(StatusCode::UNPROCESSABLE_ENTITY),
        AppointmentError::UnknownReferral(_) => {
            OperationOutcome::one("error", "not-found", error.to_string(), Some(referral_path))
                .answer(StatusCode::NOT_FOUND)
        }
        AppointmentError::Refused(refused) => {
            let expression = match refused {
                Refused::OtherReferral => referral_path,
                Refused::Settled { .. } | Refused::Altered(_) => "Appointment.status",
            };
            OperationOutcome::one("error", "conflict", refused.to_string(), Some(expression))
                .answer(StatusCode::CONFLICT)
        }
        AppointmentError::Forbidden(denied) => {
            OperationOutcome::one("error", "forbidden", denied.to_string(), None)
                .answer(StatusCode::FORBIDDEN)
        }
        AppointmentError::Concurrent => OperationOutcome::one(
            "error",
            "conflict",
            "another report of this appointment was recorded at the same moment: send it again",
            None,
        )
        .answer(StatusCode::CONFLICT),
        AppointmentError::Unavailable(cause) => {
            tracing::warn!(error = ?cause, "appointment not recorded: the database did not answer");
            OperationOutcome::unavailable("nothing was recorded, send it again shortly")
        }
        AppointmentError::Unexpected(cause) => {
            tracing::error!(error = ?cause, "appointment not recorded");
            OperationOutcome::internal("an internal error: nothing was recorded")
        }
    }
}

/// Report a PAS extract of appointments for a board: CSV with a header row
/// and the columns `appointment_id`, `referral_id`, `status` (`booked`,
/// `arrived`, `fulfilled`, `noshow`, `cancelled`), `start` (RFC 3339,
/// `YYYY-MM-DD HH:MM` in Scottish time, or `YYYY-MM-DD`; needed unless
/// cancelled), `clinic_type` (`pain-clinic`, `pain-psychology`,
/// `physiotherapy`, `pain-management-programme`) and `first_appointment`
/// (`yes`/`no`). No cell may start with `=`, `+`, `-`, `@`, a tab or a
/// carriage return. Every row is checked first, the referrals and what was
/// recorded included: one bad row rejects the whole file, and the answer
/// names every problem by line and column. Rows that say what is recorded
/// already change nothing. Needs the role `hospital_system` or
/// `board_admin` for the board.
#[utoipa::path(
    post, path = "/v1/boards/{board}/appointments.csv", tag = "appointments",
    params(("board" = String, Path, description = "Board code, e.g. highland")),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, body = AppointmentImport),
        (status = 403, description = "Not the hospital system or a board admin of that board", body = ErrorBody),
        (status = 404, description = "Unknown board", body = ErrorBody),
        (status = 422, description = "Rows rejected: each `fields[].field` is `line N.column`; nothing was recorded", body = ErrorBody),
    )
)]
pub(super) async fn import_appointments(
    State(intake): State<Intake>,
    caller: Caller,
    Path(board): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AppointmentImport>, ApiError> {
    let board = BoardCode::parse(&board).map_err(|_| {
        ApiError::not_found(format!(
            "no board {board:?}: expected one of {}",
            BOARD_CODES.join(", ")
        ))
        .with_fields(vec![FieldError::new("board", "unknown board code")])
    })?;
    Ok(Json(
        intake
            .import_appointments(&caller, board, &body, Utc::now())
            .await?,
    ))
}

impl From<AppointmentError> for ApiError {
    fn from(error: AppointmentError) -> Self {
        match error {
            AppointmentError::Invalid(fields) => ApiError::validation(fields),
            AppointmentError::UnknownReferral(_) => ApiError::not_found(error.to_string()),
            AppointmentError::Refused(refused) => {
                ApiError::conflict("appointment_settled", refused.to_string())
            }
            AppointmentError::Forbidden(denied) => denied.into(),
            AppointmentError::Concurrent => ApiError::conflict(
                "concurrent_request",
                "another report of the same appointment was recorded at the same moment: send the file again",
            ),
            AppointmentError::Unavailable(cause) => ApiError::unavailable("the database", cause),
            AppointmentError::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}
