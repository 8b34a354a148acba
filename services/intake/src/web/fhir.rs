//! FHIR R4 referrals: `POST /fhir/Bundle` (a referral as a Bundle, read
//! into the native request and held to the same rules), `GET
//! /fhir/Questionnaire/pain-referral` (what the clinical answers answer)
//! and `GET /fhir/metadata` (what this FHIR endpoint supports). Problems
//! are answered as `OperationOutcome`s naming the element by FHIRPath.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pathway_common::auth::Caller;
use pathway_common::validation::FieldError;
use serde_json::{Value, json};

use super::appointments::{FHIR_JSON, OperationOutcome, OutcomeIssue};
use crate::application::referrals::Submitted;
use crate::application::{Error, Intake, OpenReferral};
use crate::domain::fhir::referral::{self, FieldPaths};
use crate::domain::fhir::{questionnaire, service_request, uk_core};

fn fhir_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

/// The native rules' errors, each at the element its field came from.
fn field_outcome(fields: Vec<FieldError>, paths: &FieldPaths) -> OperationOutcome {
    OperationOutcome::new(
        fields
            .into_iter()
            .map(|f| OutcomeIssue {
                severity: "error".into(),
                code: "invalid".into(),
                expression: vec![paths.path_of(&f.field)],
                diagnostics: format!("{}: {}", f.field, f.reason),
            })
            .collect(),
    )
}

/// Send a referral as a FHIR R4 `Bundle` of type `collection`: one
/// `ServiceRequest` (status `active`, intent `order`, `code`
/// `https://pathway.scot.nhs.uk/fhir/CodeSystem/service#chronic-pain`, the
/// board as a `performer` identifier of
/// `https://pathway.scot.nhs.uk/fhir/Id/board`), the `Patient` (CHI number
/// as an identifier of `urn:oid:2.16.840.1.113883.2.1.3.2.4.16.53`), the
/// referring `Practitioner` (name; an `email` or `url` telecom for the
/// reply), the practice `Organization` (identifier of
/// `https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code`) and a
/// `QuestionnaireResponse` to
/// `https://pathway.scot.nhs.uk/fhir/Questionnaire/pain-referral`. The same
/// rules as `POST /v1/referrals` apply; each problem is named by FHIRPath.
/// A retry with the same `Idempotency-Key`, or else the same
/// `Bundle.identifier`, answers as the first time did. Resources may
/// declare UK Core profiles and carry extensions Pathway does not read; the
/// answer is a `UKCore-ServiceRequest`.
#[utoipa::path(
    post, path = "/fhir/Bundle", tag = "referrals",
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Bundle (collection) holding the referral"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer; without it, Bundle.identifier does")),
    responses(
        (status = 201, description = "Received: a ServiceRequest whose id is the referral id; Location is the referral", content_type = "application/fhir+json"),
        (status = 400, description = "Not a FHIR Bundle in JSON", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not a referrer, or not for this board", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "The patient has an open referral with this board", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Elements not valid: each issue names its element by FHIRPath", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn post_referral_bundle(
    State(intake): State<Intake>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header_key = match headers.get("Idempotency-Key") {
        None => None,
        Some(value) => {
            let key = value.to_str().unwrap_or("").trim();
            if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
                return OperationOutcome::one(
                    "error",
                    "value",
                    "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
                    None,
                )
                .answer(StatusCode::BAD_REQUEST);
            }
            Some(key.to_owned())
        }
    };
    let parsed = match referral::parse(&body) {
        Ok(parsed) => parsed,
        Err(found) => {
            let status = if referral::not_a_bundle(&found) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return OperationOutcome::of_issues(found).answer(status);
        }
    };
    let key = header_key.or(parsed.bundle_key);
    // The native request, not the Bundle's bytes, is what a retry must
    // repeat: the same referral re-serialised is the same referral.
    let canonical = match serde_json::to_vec(&parsed.request) {
        Ok(bytes) => bytes,
        Err(cause) => {
            tracing::error!(error = ?cause, "referral bundle not serialised");
            return OperationOutcome::internal("an internal error");
        }
    };
    match intake
        .submit_referral(
            &caller,
            key.as_deref(),
            &canonical,
            parsed.request,
            chrono::Utc::now(),
        )
        .await
    {
        Ok(Submitted::Created(summary) | Submitted::Replayed(summary)) => {
            let service_request = service_request::resource(&service_request::Received {
                referral_id: &summary.id,
                board: summary.board.code(),
                status: summary.status.as_str(),
                route: summary.route.as_str(),
                received_at: summary.received_at,
                version: summary.version,
            });
            let mut response = fhir_json(StatusCode::CREATED, service_request);
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/referrals/{}", summary.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", summary.version)) {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        Err(error) => error_answer(error, &parsed.paths),
    }
}

fn error_answer(error: Error, paths: &FieldPaths) -> Response {
    match error {
        Error::Validation(fields) | Error::Rejected { fields, .. } => {
            field_outcome(fields, paths).answer(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Error::Duplicate { open_referral } => {
            let diagnostics = match open_referral {
                OpenReferral::Yours(id) => format!(
                    "this patient already has an open referral with this board ({id}): follow that one, or send this again with the item re-referral answered true"
                ),
                OpenReferral::NotYours => "a referral for this patient is already open on the pain pathway with this board: contact the board's pain service".to_owned(),
            };
            OperationOutcome::one(
                "error",
                "duplicate",
                diagnostics,
                Some(&paths.path_of("patient.chi")),
            )
            .answer(StatusCode::CONFLICT)
        }
        Error::IdempotencyKeyReused => OperationOutcome::one(
            "error",
            "conflict",
            "this Idempotency-Key or Bundle.identifier was used for a different referral: use a new one for a new referral",
            Some("Bundle.identifier"),
        )
        .answer(StatusCode::UNPROCESSABLE_ENTITY),
        Error::Concurrent => OperationOutcome::one(
            "error",
            "conflict",
            "another request with this key is in progress: retry in a moment",
            None,
        )
        .answer(StatusCode::CONFLICT),
        Error::UnknownBoard(reason) => OperationOutcome::one(
            "error",
            "not-found",
            reason,
            Some(&paths.path_of("board")),
        )
        .answer(StatusCode::UNPROCESSABLE_ENTITY),
        Error::Forbidden(denied) => {
            OperationOutcome::one("error", "forbidden", denied.to_string(), None)
                .answer(StatusCode::FORBIDDEN)
        }
        Error::Unavailable(cause) => {
            tracing::warn!(error = ?cause, "referral not received: the database did not answer");
            OperationOutcome::unavailable("nothing was recorded, send it again shortly")
        }
        other => {
            tracing::error!(error = ?other, "referral bundle not received");
            OperationOutcome::internal("an internal error: nothing was recorded")
        }
    }
}

/// The `Questionnaire` a referral's `QuestionnaireResponse` answers.
#[utoipa::path(
    get, path = "/fhir/Questionnaire/pain-referral", tag = "referrals",
    responses((status = 200, description = "A FHIR R4 Questionnaire", content_type = "application/fhir+json")),
    security(())
)]
pub(super) async fn get_questionnaire() -> Response {
    fhir_json(StatusCode::OK, questionnaire::resource())
}

/// What this FHIR endpoint supports, and nothing more.
#[utoipa::path(
    get, path = "/fhir/metadata", tag = "referrals",
    responses((status = 200, description = "A FHIR R4 CapabilityStatement", content_type = "application/fhir+json")),
    security(())
)]
pub(super) async fn metadata() -> Response {
    fhir_json(StatusCode::OK, capability_statement())
}

/// The `CapabilityStatement`: exactly the interactions routed here.
pub fn capability_statement() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-28",
        "publisher": "Pathway",
        "kind": "instance",
        "software": {"name": "Pathway intake", "version": version},
        "implementation": {"description": "Pathway's intake of referrals to the chronic pain service"},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": false,
                "description": "Every interaction but metadata and the Questionnaire needs Authorization: Bearer <token>: a referrer's for Bundle and Communication, a referrer's or a clinician's for Task and Subscription, the hospital system's for Appointment."
            },
            "resource": [
                {
                    "type": "Bundle",
                    "supportedProfile": [uk_core::BUNDLE],
                    "interaction": [{"code": "create", "documentation": "A referral: a collection holding a ServiceRequest, Patient, Practitioner, Organization and QuestionnaireResponse. The answer is the ServiceRequest (UKCore-ServiceRequest), whose id is the referral id. Entries may declare UK Core profiles; elements and extensions Pathway does not read are ignored."}],
                },
                {
                    "type": "Appointment",
                    "supportedProfile": [uk_core::APPOINTMENT],
                    "interaction": [{"code": "create", "documentation": "A first appointment, or a change to it, for a referral named in basedOn."}],
                },
                {
                    "type": "Task",
                    "supportedProfile": [uk_core::TASK],
                    "interaction": [
                        {"code": "read", "documentation": "A referral's status; the id is the referral id. A referrer reads the referrals they sent, a clinician those of their boards. meta.versionId is the referral's version."},
                        {"code": "search-type", "documentation": "The Tasks the caller may read, least recently modified first, paged by _count and the next link (_cursor). Any other parameter is refused with a 400."},
                    ],
                    "searchParam": [
                        {"name": "requester", "type": "token", "documentation": "The practice code, [https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code|]<code>."},
                        {"name": "owner", "type": "token", "documentation": "The board code, [https://pathway.scot.nhs.uk/fhir/Id/board|]<code>."},
                        {"name": "_lastUpdated", "type": "date", "documentation": "Prefixes ge, gt, le and lt only; at most one lower and one upper bound. A date without a time is a day in Scotland."},
                        {"name": "_count", "type": "number", "documentation": "Page size, 1 to 100 (default 20)."},
                        {"name": "_cursor", "type": "string", "documentation": "Where the next page starts: follow the Bundle's next link."},
                    ],
                },
                {
                    "type": "Communication",
                    "supportedProfile": [uk_core::COMMUNICATION],
                    "interaction": [{"code": "create", "documentation": "The referrer's answer to the open question of a Task on-hold: basedOn the ServiceRequest, about the question's identifier, payload[0].contentString the answer. If-Match takes the Task's version."}],
                },
                {
                    "type": "Subscription",
                    "interaction": [
                        {"code": "create", "documentation": "R4 rest-hook only. criteria Task?requester=[system|]<practice code> (optionally &owner=[system|]<board>); channel.endpoint an https URL on the board's notification.allowed_hosts; channel.payload absent (an empty POST to the endpoint) or application/fhir+json (the Task PUT to <endpoint>/Task/<id>); channel.header sent with each notification. A referrer is told of its own referrals, a clinician of its boards'. A 4xx from the endpoint puts the Subscription in error."},
                        {"code": "read", "documentation": "Only by the token subject that created it."},
                        {"code": "delete", "documentation": "Only by the token subject that created it; nothing more is sent."},
                    ],
                },
                {
                    "type": "Questionnaire",
                    "supportedProfile": [uk_core::QUESTIONNAIRE],
                    "interaction": [{"code": "read", "documentation": "Only pain-referral."}],
                },
            ],
        }],
    })
}
