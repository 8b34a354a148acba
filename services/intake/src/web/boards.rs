//! The board API: the 14 boards and their switch onto the pathway, and each
//! board's settings.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use pathway_common::auth::{Caller, Role};
use pathway_common::http::{ApiError, ErrorBody, FieldError, JsonBody};
use pathway_proto::board::BoardSettings;

use super::types::{BoardSettingsView, BoardView, PathwaySwitch};
use crate::application::Intake;
use crate::application::boards::PathwaySwitch as PathwaySwitchCommand;

/// The 14 territorial boards and whether each is on the remote pathway
/// today in Scotland.
#[utoipa::path(get, path = "/v1/boards", tag = "boards", responses((status = 200, body = Vec<BoardView>)))]
pub(super) async fn list_boards(
    State(intake): State<Intake>,
    _caller: Caller,
) -> Result<Json<Vec<BoardView>>, ApiError> {
    let boards = intake.boards(Utc::now()).await?;
    Ok(Json(boards.into_iter().map(Into::into).collect()))
}

/// Switch the remote pathway on or off for a board, from a Scottish day:
/// referrals received on or after it, on Scotland's clock, follow the switch.
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
pub(super) async fn switch_pathway(
    State(intake): State<Intake>,
    caller: Caller,
    Path(board): Path<String>,
    JsonBody(request): JsonBody<PathwaySwitch>,
) -> Result<Json<BoardView>, ApiError> {
    let switch = PathwaySwitchCommand {
        enabled: request.enabled,
        effective_date: request.effective_date.as_deref(),
        reason: request.reason.as_deref(),
    };
    Ok(Json(
        intake
            .switch_pathway(&caller, &board, switch, Utc::now())
            .await?
            .into(),
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
pub(super) async fn get_board_settings(
    State(intake): State<Intake>,
    caller: Caller,
    Path(board): Path<String>,
) -> Result<Json<BoardSettingsView>, ApiError> {
    Ok(Json(
        intake
            .board_settings(&caller, &board, Utc::now())
            .await?
            .into(),
    ))
}

/// Replace a board's settings with the whole document sent, in force from
/// a Scottish day: `effective_from`, today in Scotland unless given, never
/// before today. Fields left out take their defaults; every service picks
/// the change up without a restart, and each judges a referral by the
/// settings in force on the relevant day.
#[utoipa::path(
    put, path = "/v1/boards/{board}/settings", tag = "boards",
    request_body(content = Object, description = "The whole settings document (see examples/board-settings.json): vetting_target_working_days, claim_lease_minutes, information_request_reminder_working_days, scottish_bank_holidays, extra_holidays, disabled_outcomes, outcome_labels, partners, priority_target_days, opt_in_window_days, opt_in_reminder_days, patient_information, notification"),
    params(
        ("board" = String, Path, description = "Board code"),
        SettingsWhen,
    ),
    responses(
        (status = 200, description = "Stored and announced as board.settings_changed", body = BoardSettingsView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a board admin of this board", body = ErrorBody),
        (status = 404, description = "Unknown board", body = ErrorBody),
        (status = 415, description = "Not sent as JSON", body = ErrorBody),
        (status = 422, description = "Unknown fields, wrong types or values out of range, or an effective_from that is not a day or is before today in Scotland: every field named", body = ErrorBody),
    )
)]
pub(super) async fn set_board_settings(
    State(intake): State<Intake>,
    caller: Caller,
    Path(board): Path<String>,
    Query(when): Query<SettingsWhen>,
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
        intake
            .set_board_settings(
                &caller,
                &board,
                settings,
                when.effective_from.as_deref(),
                Utc::now(),
            )
            .await?
            .into(),
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
/// When a settings change is in force from.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SettingsWhen {
    /// YYYY-MM-DD, a Scottish day, today or later; today in Scotland when
    /// left out.
    effective_from: Option<String>,
}

fn parse_settings(body: &[u8]) -> Result<BoardSettings, ApiError> {
    pathway_common::http::parse_json(body)
}

#[cfg(test)]
#[path = "tests/boards.rs"]
mod tests;
