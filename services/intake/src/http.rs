//! Intake's HTTP API: referrals (native JSON), boards, OpenAPI, health.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router, middleware};
use pathway_common::auth::{Authenticator, Caller, Role};
use pathway_common::http::{
    ApiError, BearerAuth, ErrorBody, FieldError, JsonBody, ops_routes, track_metrics,
};
use pathway_proto::board::BoardSettings;
use utoipa::OpenApi;

use crate::application::{
    BoardSettingsChangeView, BoardSettingsView, BoardView, HistoryEntry, InformationAnswer,
    InformationRequestView, Intake, PathwayChangeView, PathwaySwitch, ReferralCreated,
    ReferralView, RejectionReason, WithdrawRequest,
};
use crate::domain::referral::{
    AddressRequest, ClinicalRequest, ContactRequest, ImpactRequest, PatientRequest,
    ReferralRequest, ReferrerRequest,
};

#[derive(Clone)]
pub struct AppState {
    pub intake: Intake,
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.intake.platform.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pathway intake",
        description = "Referrals to the chronic pain service as GP systems send them, and the boards' switch onto the remote pathway. Every call needs `Authorization: Bearer <token>`; errors name the field and the reason.",
        version = "1"
    ),
    paths(
        submit_referral, get_referral, withdraw, provide_information, list_boards, switch_pathway,
        get_board_settings, set_board_settings
    ),
    components(schemas(
        ReferralRequest, PatientRequest, ContactRequest, AddressRequest, ReferrerRequest, ClinicalRequest,
        ImpactRequest, ReferralCreated, ReferralView, HistoryEntry, InformationRequestView, WithdrawRequest,
        InformationAnswer, PathwaySwitch, BoardView, PathwayChangeView, BoardSettingsView,
        BoardSettingsChangeView, ErrorBody, FieldError, RejectionReason
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

pub fn router(state: AppState, body_limit: usize) -> Router {
    let metrics = state.intake.platform.metrics.clone();
    let ops = ops_routes(metrics.clone(), state.intake.platform.readiness());
    Router::new()
        .route("/v1/referrals", post(submit_referral))
        .route("/v1/referrals/{id}", get(get_referral))
        .route("/v1/referrals/{id}/withdraw", post(withdraw))
        .route("/v1/referrals/{id}/information", post(provide_information))
        .route("/v1/boards", get(list_boards))
        .route("/v1/boards/{board}/pathway", put(switch_pathway))
        .route(
            "/v1/boards/{board}/settings",
            get(get_board_settings).put(set_board_settings),
        )
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/", get(home))
        .fallback(pathway_common::http::not_found_fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
        .merge(ops)
        .layer(middleware::from_fn_with_state(metrics, track_metrics))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(pathway_common::http::request_span),
        )
}

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
        (status = 201, description = "Received: on the remote pathway (`awaiting_vetting`) or routed to the standard route (`routed_standard`)", body = ReferralCreated),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a referrer, or not for this board", body = ErrorBody),
        (status = 409, description = "The patient has an open referral with this board (rejection reason 01)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Fields not valid (rejection reason 03, or 02 without consent)", body = ErrorBody),
    )
)]
async fn submit_referral(
    State(state): State<AppState>,
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
    let (status, created) = state
        .intake
        .submit_referral(&caller, key.as_deref(), &body, request)
        .await?;
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
        (status = 404, description = "No such referral that this token may see", body = ErrorBody),
    )
)]
async fn get_referral(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.intake.get_referral(&caller, &id).await?;
    Ok(([(header::ETAG, etag(view.version))], Json(view)).into_response())
}

/// Withdraw a referral that is still open.
#[utoipa::path(
    post, path = "/v1/referrals/{id}/withdraw", tag = "referrals",
    request_body = WithdrawRequest,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag last read")),
    responses(
        (status = 200, body = ReferralCreated),
        (status = 409, description = "Not open any more", body = ErrorBody),
        (status = 412, description = "Changed since it was read", body = ErrorBody),
    )
)]
async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<WithdrawRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let answer = state
        .intake
        .withdraw(&caller, &id, version, request)
        .await?;
    Ok(([(header::ETAG, etag(answer.version))], Json(answer)).into_response())
}

/// Answer a clinician's request for more information.
#[utoipa::path(
    post, path = "/v1/referrals/{id}/information", tag = "referrals",
    request_body = InformationAnswer,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag last read")),
    responses(
        (status = 200, body = ReferralCreated),
        (status = 409, description = "No information was asked for", body = ErrorBody),
        (status = 412, description = "Changed since it was read", body = ErrorBody),
    )
)]
async fn provide_information(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<InformationAnswer>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let answer = state
        .intake
        .provide_information(&caller, &id, version, request)
        .await?;
    Ok(([(header::ETAG, etag(answer.version))], Json(answer)).into_response())
}

/// The 14 territorial boards and whether each is on the remote pathway.
#[utoipa::path(get, path = "/v1/boards", tag = "boards", responses((status = 200, body = Vec<BoardView>)))]
async fn list_boards(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<BoardView>>, ApiError> {
    Ok(Json(state.intake.boards().await?))
}

/// Switch the remote pathway on or off for a board, from a date.
#[utoipa::path(
    put, path = "/v1/boards/{board}/pathway", tag = "boards",
    request_body = PathwaySwitch,
    params(("board" = String, Path, description = "Board code")),
    responses(
        (status = 200, body = BoardView),
        (status = 403, description = "Not a board admin of this board", body = ErrorBody),
        (status = 404, description = "Unknown board", body = ErrorBody),
    )
)]
async fn switch_pathway(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    JsonBody(request): JsonBody<PathwaySwitch>,
) -> Result<Json<BoardView>, ApiError> {
    Ok(Json(
        state
            .intake
            .switch_pathway(&caller, &board, request)
            .await?,
    ))
}

/// A board's settings in force (the defaults until it stores its own), and
/// every change with who made it and when.
#[utoipa::path(
    get, path = "/v1/boards/{board}/settings", tag = "boards",
    params(("board" = String, Path, description = "Board code")),
    responses(
        (status = 200, body = BoardSettingsView),
        (status = 403, description = "Not a board admin or clinician of this board", body = ErrorBody),
        (status = 404, description = "Unknown board", body = ErrorBody),
    )
)]
async fn get_board_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
) -> Result<Json<BoardSettingsView>, ApiError> {
    Ok(Json(state.intake.board_settings(&caller, &board).await?))
}

/// Replace a board's settings with the whole document sent. Fields left out
/// take their defaults; every service picks the change up without a restart.
#[utoipa::path(
    put, path = "/v1/boards/{board}/settings", tag = "boards",
    request_body(content = Object, description = "The whole settings document (see examples/board-settings.json): vetting_target_working_days, claim_lease_minutes, scottish_bank_holidays, extra_holidays, disabled_outcomes, outcome_labels, partners, priority_target_days, opt_in_window_days"),
    params(("board" = String, Path, description = "Board code")),
    responses(
        (status = 200, description = "Stored and announced as board.settings_changed", body = BoardSettingsView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a board admin of this board", body = ErrorBody),
        (status = 404, description = "Unknown board", body = ErrorBody),
        (status = 415, description = "Not sent as JSON", body = ErrorBody),
        (status = 422, description = "Unknown fields, wrong types or values out of range: every field named", body = ErrorBody),
    )
)]
async fn set_board_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(board): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BoardSettingsView>, ApiError> {
    // Who may change this board is settled before anything about the body.
    Intake::board_for(&caller, &board, &[Role::BoardAdmin])?;
    require_json(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is larger than this endpoint accepts",
            )
            .with_fields(vec![FieldError::new("body", "over the size limit")])
        } else {
            ApiError::bad_request(format!("cannot read the body: {rejection}"))
        }
    })?;
    let settings = parse_settings(&body)?;
    Ok(Json(
        state
            .intake
            .set_board_settings(&caller, &board, settings)
            .await?,
    ))
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        )
        .with_fields(vec![FieldError::new(
            "Content-Type",
            "must be application/json",
        )]))
    }
}

/// The settings document; a failure names the field (an unknown one too,
/// e.g. `partners[0].phone`).
fn parse_settings(body: &[u8]) -> Result<BoardSettings, ApiError> {
    pathway_common::http::parse_json(body)
}

/// A plain page for whoever opens intake in a browser: which boards are on
/// the pathway, and where the API and the operational endpoints are. Board
/// status is not personal data; nothing about referrals is shown here.
async fn home(State(state): State<AppState>) -> Result<axum::response::Html<String>, ApiError> {
    let boards = state.intake.boards().await?;
    let rows: String = boards
        .iter()
        .map(|b| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&b.name),
                escape(&b.code),
                if b.pathway_enabled {
                    "<strong>on</strong>"
                } else {
                    "off"
                },
                b.since
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "never switched on".into())
            )
        })
        .collect();
    Ok(axum::response::Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pathway intake</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 2rem auto; max-width: 56rem; color: #212b32; line-height: 1.5; padding: 0 1rem; }}
header {{ background: #005eb8; color: #fff; padding: 1rem 1.5rem; margin: 0 -1rem 1.5rem; }}
h1 {{ margin: 0; font-size: 1.6rem; }} table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .5rem; border-bottom: 1px solid #d8dde0; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
a {{ color: #005eb8; }} a:focus {{ background: #ffeb3b; color: #212b32; outline: 3px solid #212b32; }}
</style></head>
<body><header><h1>Pathway intake</h1><p>Referrals to the chronic pain service, and each board's switch onto the remote pathway.</p></header>
<main>
<h2>Boards</h2>
<table><caption class="visually-hidden">Whether each board's referrals go onto the remote pathway today</caption>
<thead><tr><th scope="col">Board</th><th scope="col">Code</th><th scope="col">Remote pathway</th><th scope="col">Since</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>For systems and operators</h2>
<ul>
<li><a href="/openapi.json">API description (OpenAPI 3)</a>: every call needs a bearer token</li>
<li><a href="/healthz">Alive</a>, <a href="/readyz">ready</a> (database and NATS), <a href="/metrics">metrics</a> (Prometheus)</li>
</ul>
</main></body></html>"#
    )))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;
