//! A referral's status as a FHIR R4 `Task`: `GET /fhir/Task/{id}`, the
//! search `GET /fhir/Task?requester=...&_lastUpdated=ge...` a GP system
//! polls with (a paged `searchset` Bundle), and the referrer's answer to a
//! clinician's question as `POST /fhir/Communication`, which is the native
//! `POST /v1/referrals/{id}/information` under another name.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pathway_common::auth::Caller;
use serde_json::{Value, json};

use super::appointments::{FHIR_JSON, OperationOutcome, OutcomeIssue};
use crate::application::{Error, Intake};
use crate::domain::fhir::communication::{self, ANSWER_PATH, REFERRAL_PATH, REQUEST_PATH};
use crate::domain::fhir::search::TaskSearch;
use crate::domain::fhir::task;
use crate::domain::fhir::uk_core;

fn fhir_json(status: StatusCode, body: Value, version: Option<i64>) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    if let Some(version) = version
        && let Ok(etag) = HeaderValue::from_str(&format!("W/\"{version}\""))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Where this server answers, for the Bundle's links: the `Host` the
/// caller used (`https` when a proxy says so), else links relative to it.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    host.map(|h| format!("{scheme}://{h}/fhir"))
        .unwrap_or_else(|| "/fhir".to_owned())
}

/// An application error as an `OperationOutcome`; `referral` names the
/// element the referral id came from, if the caller sent one.
fn error_answer(error: Error, referral: Option<&str>) -> Response {
    let (status, code, diagnostics, expression) = match error {
        Error::Validation(fields) => {
            return OperationOutcome::new(
                fields
                    .into_iter()
                    .map(|f| OutcomeIssue {
                        severity: "error".into(),
                        code: "invalid".into(),
                        expression: vec![
                            match f.field.as_str() {
                                "answer" => ANSWER_PATH,
                                "information_request_id" => REQUEST_PATH,
                                _ => "Communication",
                            }
                            .to_owned(),
                        ],
                        diagnostics: format!("{}: {}", f.field, f.reason),
                    })
                    .collect(),
            )
            .answer(StatusCode::UNPROCESSABLE_ENTITY);
        }
        Error::MalformedId => (
            StatusCode::BAD_REQUEST,
            "value",
            "the id must be a referral id (a UUID)".to_owned(),
            referral,
        ),
        Error::NotFound(message) => (StatusCode::NOT_FOUND, "not-found", message, referral),
        Error::Forbidden(denied) => (StatusCode::FORBIDDEN, "forbidden", denied.to_string(), None),
        Error::Stale { current_version } => (
            StatusCode::PRECONDITION_FAILED,
            "conflict",
            format!(
                "the referral has changed since it was read: it is now version {current_version}; read its Task again"
            ),
            None,
        ),
        error @ (Error::IllegalTransition { .. } | Error::NoOpenInformationRequest) => (
            StatusCode::CONFLICT,
            "business-rule",
            format!("{error}: the Task is not on-hold for information"),
            referral,
        ),
        Error::Unavailable(cause) => {
            tracing::warn!(error = ?cause, "FHIR Task answer: the database did not answer");
            return OperationOutcome::unavailable("nothing was changed, try again shortly");
        }
        other => {
            tracing::error!(error = ?other, "FHIR Task answer failed");
            return OperationOutcome::internal("an internal error");
        }
    };
    OperationOutcome::one("error", code, diagnostics, expression).answer(status)
}

/// The referral's status as a FHIR R4 `Task`: `status` in FHIR's terms,
/// `businessStatus` with Pathway's status and the decision's outcome,
/// priority and mode, the clinician's open questions as contained
/// `CommunicationRequest`s while `on-hold`. `meta.versionId` is the
/// referral's version (the native ETag). For its referrer and clinicians of
/// its board.
#[utoipa::path(
    get, path = "/fhir/Task/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, description = "A FHIR R4 Task", content_type = "application/fhir+json", headers(("ETag" = String, description = "The referral's version, weak"))),
        (status = 400, description = "The id is not a UUID", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not a role that reads referrals", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such referral that this token may see", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn get_task(
    State(intake): State<Intake>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match intake.referral_task(&caller, &id).await {
        Ok(facts) => fhir_json(StatusCode::OK, task::resource(&facts), Some(facts.version)),
        Err(error) => error_answer(error, Some("Task.id")),
    }
}

/// Search the referrals' Tasks the caller may see (a referrer's own; a
/// clinician's boards'), least recently modified first, as a `searchset`
/// Bundle with a `next` link while more remain. Parameters: `requester`
/// (`[system|]practice code`), `owner` (`[system|]board code`),
/// `_lastUpdated` (prefix `ge`, `gt`, `le` or `lt`, at most one lower and
/// one upper bound; a date is a Scottish day), `_count` (1 to 100, default
/// 20), `_cursor` (from the `next` link). Any other parameter is a 400.
#[utoipa::path(
    get, path = "/fhir/Task", tag = "referrals",
    params(
        ("requester" = Option<String>, Query, description = "The practice: [https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code|]<code>"),
        ("owner" = Option<String>, Query, description = "The board: [https://pathway.scot.nhs.uk/fhir/Id/board|]<code>"),
        ("_lastUpdated" = Option<String>, Query, description = "e.g. ge2026-11-01 or gt2026-11-01T09:00:00Z"),
        ("_count" = Option<u64>, Query, description = "Page size, 1 to 100"),
        ("_cursor" = Option<String>, Query, description = "Where the next page starts, from the next link"),
    ),
    responses(
        (status = 200, description = "A FHIR R4 Bundle of type searchset", content_type = "application/fhir+json"),
        (status = 400, description = "Parameters not valid or not supported: each issue names its parameter", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not a role that reads referrals", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn search_tasks(
    State(intake): State<Intake>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let search = match TaskSearch::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(search) => search,
        Err(issues) => return OperationOutcome::of_issues(issues).answer(StatusCode::BAD_REQUEST),
    };
    let page = match intake.search_tasks(&caller, &search).await {
        Ok(page) => page,
        Err(error) => return error_answer(error, None),
    };
    let base = base(&headers);
    let mut link = vec![json!({
        "relation": "self",
        "url": if query.is_empty() { format!("{base}/Task") } else { format!("{base}/Task?{query}") },
    })];
    if let Some(next) = &page.next {
        link.push(json!({
            "relation": "next",
            "url": format!("{base}/Task?{}", search.next_query(next)),
        }));
    }
    let entry: Vec<Value> = page
        .tasks
        .iter()
        .map(|facts| {
            json!({
                "fullUrl": format!("{base}/Task/{}", facts.referral_id),
                "resource": task::resource(facts),
                "search": {"mode": "match"},
            })
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {
            "lastUpdated": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "profile": uk_core::profile(uk_core::BUNDLE),
        },
        "link": link,
    });
    if !entry.is_empty() {
        bundle["entry"] = Value::Array(entry);
    }
    fhir_json(StatusCode::OK, bundle, None)
}

/// Answer a clinician's question as a FHIR R4 `Communication`: `status`
/// `completed`, `basedOn` `ServiceRequest/<referral id>`, `about` the
/// question's identifier (system
/// `https://pathway.scot.nhs.uk/fhir/Id/information-request`, as the Task's
/// contained `CommunicationRequest` has it; the latest open question when
/// absent), the answer as `payload[0].contentString`. The same use case,
/// rules and events as `POST /v1/referrals/{id}/information`; `If-Match`
/// takes the Task's `meta.versionId` (or its ETag).
#[utoipa::path(
    post, path = "/fhir/Communication", tag = "referrals",
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Communication answering the referral's open question"),
    params(("If-Match" = Option<String>, Header, description = "The Task's ETag or versionId last read")),
    responses(
        (status = 201, description = "The answer, as recorded; Location is the referral's Task", content_type = "application/fhir+json"),
        (status = 400, description = "Not a FHIR Communication in JSON, or If-Match is not an ETag", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 403, description = "Not the referrer", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 404, description = "No such referral that this token may see", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 409, description = "No question is waiting for an answer", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 412, description = "The referral changed since it was read", body = OperationOutcome, content_type = "application/fhir+json"),
        (status = 422, description = "Elements not valid: each issue names its element by FHIRPath", body = OperationOutcome, content_type = "application/fhir+json"),
    )
)]
pub(super) async fn post_communication(
    State(intake): State<Intake>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let version = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => {
            let text = value.to_str().unwrap_or("").trim();
            let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
            match text.parse::<i64>() {
                Ok(version) => Some(version),
                Err(_) => {
                    return OperationOutcome::one(
                        "error",
                        "value",
                        "If-Match must be the Task's ETag or meta.versionId, e.g. W/\"3\"",
                        None,
                    )
                    .answer(StatusCode::BAD_REQUEST);
                }
            }
        }
    };
    let answer = match communication::parse(&body) {
        Ok(answer) => answer,
        Err(issues) => {
            let status = if communication::not_a_communication(&issues) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return OperationOutcome::of_issues(issues).answer(status);
        }
    };
    let request_id = match answer.information_request_id.clone() {
        Some(id) => Some(id),
        // Name the question answered, as the stored answer does.
        None => match intake.referral_task(&caller, &answer.referral_id).await {
            Ok(facts) => facts.open_questions.last().map(|q| q.id.clone()),
            Err(error) => return error_answer(error, Some(REFERRAL_PATH)),
        },
    };
    match intake
        .provide_information(
            &caller,
            &answer.referral_id,
            version,
            request_id.as_deref(),
            &answer.text,
        )
        .await
    {
        Ok(summary) => {
            let recorded = communication::recorded(
                &summary.id,
                summary.board.code(),
                request_id.as_deref(),
                &answer.text,
                chrono::Utc::now(),
            );
            let mut response = fhir_json(StatusCode::CREATED, recorded, Some(summary.version));
            if let Ok(location) = HeaderValue::from_str(&format!("/fhir/Task/{}", summary.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(error) => error_answer(error, Some(REFERRAL_PATH)),
    }
}
