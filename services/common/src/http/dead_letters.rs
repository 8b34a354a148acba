//! `GET /v1/dead-letters` and `GET /v1/dead-letters/{id}`: what a service's
//! consumers refused, for an operator to read; `POST
//! /v1/dead-letters/{id}/replay` and `POST /v1/dead-letters/replay` to replay
//! one or all after the cause is fixed ([`crate::replay`]). Written once
//! here and merged into every service by [`super::finish`].
//!
//! Dead letters cross boards, so only a `board_admin` whose token names every
//! board (`*`) may read or replay them. The stored payload is never returned: when it
//! decodes as an [`Event`], its type, board, referral and time are shown
//! instead.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use pathway_proto::v1::Event;
use prost::Message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use crate::auth::{AuthError, Caller, Role};
use crate::inbox::dead_letter;
use crate::replay::{self, ReplayError};
use crate::validation::FieldError;

/// The routes, on the service's own database.
pub fn routes(db: DatabaseConnection) -> Router {
    Router::new()
        .route("/v1/dead-letters", get(list_dead_letters))
        .route("/v1/dead-letters/{id}", get(get_dead_letter))
        .route("/v1/dead-letters/{id}/replay", post(replay_dead_letter))
        .route("/v1/dead-letters/replay", post(replay_dead_letters))
        .with_state(db)
}

/// One dead letter, without its payload bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadLetterView {
    pub id: String,
    /// The durable consumer that refused it.
    pub consumer: String,
    /// The event's id, or `stream-seq-<n>` when it did not decode.
    pub message_id: String,
    pub subject: String,
    pub reason: String,
    /// How many times it was delivered before it was given up on.
    pub deliveries: i64,
    pub dead_at: DateTime<Utc>,
    pub replayed_at: Option<DateTime<Utc>>,
    /// Whether the payload decodes as a Pathway event (the fields below).
    pub decodes: bool,
    /// `aggregate.event`, e.g. `vetting.completed`.
    pub event_type: Option<String>,
    pub board: Option<String>,
    pub referral_id: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

impl From<dead_letter::Model> for DeadLetterView {
    fn from(row: dead_letter::Model) -> Self {
        let event = Event::decode(row.payload.as_slice()).ok();
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Self {
            decodes: event.is_some(),
            event_type: event
                .as_ref()
                .and_then(Event::kind)
                .map(|(aggregate, event)| format!("{aggregate}.{event}")),
            board: event.as_ref().and_then(|e| non_empty(&e.board)),
            referral_id: event.as_ref().and_then(|e| non_empty(&e.referral_id)),
            occurred_at: event.as_ref().and_then(Event::occurred_at),
            id: row.id,
            consumer: row.consumer,
            message_id: row.message_id,
            subject: row.subject,
            reason: row.reason,
            deliveries: row.deliveries,
            dead_at: row.dead_at,
            replayed_at: row.replayed_at,
        }
    }
}

/// A page of dead letters, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetterView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<String>,
}

/// `GET /v1/dead-letters`' query.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is parsed by `ListQuery::parse`
struct ListParams {
    /// Items in the page: 1 to 500, 50 when left out.
    limit: Option<u64>,
    /// The id of the last item of the previous page: only older ones follow.
    before: Option<String>,
    /// Only this durable consumer's.
    consumer: Option<String>,
}

struct ListQuery {
    limit: u64,
    before: Option<String>,
    consumer: Option<String>,
}

impl ListQuery {
    /// Every failing field at once.
    fn parse(raw: BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match crate::page::limit(raw.get("limit").map(String::as_str)) {
            Ok(limit) => limit,
            Err(error) => {
                errors.push(error);
                crate::page::DEFAULT_LIMIT
            }
        };
        let before = raw.get("before").cloned();
        if let Some(id) = &before
            && uuid::Uuid::parse_str(id).is_err()
        {
            errors.push(FieldError::new(
                "before",
                "must be the id of a dead letter (a UUID)",
            ));
        }
        let consumer = raw.get("consumer").cloned();
        if consumer.as_deref() == Some("") {
            errors.push(FieldError::new("consumer", "must not be empty"));
        }
        if errors.is_empty() {
            Ok(Self {
                limit,
                before,
                consumer,
            })
        } else {
            Err(errors)
        }
    }
}

fn require_operator(caller: &Caller) -> Result<(), AuthError> {
    caller.require_role(&[Role::BoardAdmin])?;
    if caller.boards.contains("*") {
        Ok(())
    } else {
        Err(AuthError::Forbidden(
            "dead letters cross boards: this needs a token for every board (*)".into(),
        ))
    }
}

/// This service's dead letters, newest first.
#[utoipa::path(
    get, path = "/v1/dead-letters", tag = "dead letters",
    params(ListParams),
    responses(
        (status = 200, description = "A page of dead letters, newest first", body = DeadLetterPage),
        (status = 400, description = "The query string is not valid", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "Not a board_admin for every board (*)", body = ErrorBody),
        (status = 422, description = "limit, before or consumer is not valid", body = ErrorBody),
        (status = 503, description = "The database did not answer", body = ErrorBody),
    )
)]
pub async fn list_dead_letters(
    caller: Caller,
    State(db): State<DatabaseConnection>,
    raw: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    require_operator(&caller)?;
    let Query(raw) = raw.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    let query = ListQuery::parse(raw).map_err(ApiError::validation)?;
    let mut select = dead_letter::Entity::find().order_by_desc(dead_letter::Column::Id);
    if let Some(before) = &query.before {
        select = select.filter(dead_letter::Column::Id.lt(before.as_str()));
    }
    if let Some(consumer) = &query.consumer {
        select = select.filter(dead_letter::Column::Consumer.eq(consumer.as_str()));
    }
    // One more than asked says whether a next page exists.
    let mut rows = select
        .limit(query.limit + 1)
        .all(&db)
        .await
        .map_err(|e| ApiError::unavailable("the database", e))?;
    let more = rows.len() as u64 > query.limit;
    rows.truncate(query.limit as usize);
    let next_before = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    Ok(Json(DeadLetterPage {
        dead_letters: rows.into_iter().map(DeadLetterView::from).collect(),
        next_before,
    }))
}

/// One dead letter.
#[utoipa::path(
    get, path = "/v1/dead-letters/{id}", tag = "dead letters",
    params(("id" = String, Path, description = "The dead letter's id")),
    responses(
        (status = 200, description = "The dead letter", body = DeadLetterView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "Not a board_admin for every board (*)", body = ErrorBody),
        (status = 404, description = "No dead letter with this id", body = ErrorBody),
        (status = 503, description = "The database did not answer", body = ErrorBody),
    )
)]
pub async fn get_dead_letter(
    caller: Caller,
    State(db): State<DatabaseConnection>,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterView>, ApiError> {
    require_operator(&caller)?;
    let row = dead_letter::Entity::find_by_id(id.clone())
        .one(&db)
        .await
        .map_err(|e| ApiError::unavailable("the database", e))?
        .ok_or_else(|| ApiError::not_found(format!("no dead letter {id:?} in this service")))?;
    Ok(Json(row.into()))
}

impl From<ReplayError> for ApiError {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::NotFound(_) => ApiError::not_found(error.to_string()),
            ReplayError::AlreadyReplayed(_) => {
                ApiError::conflict("already_replayed", error.to_string())
            }
            ReplayError::NotAnEvent(_) => ApiError::conflict("not_an_event", error.to_string()),
            ReplayError::Database(cause) => ApiError::unavailable("the database", cause),
        }
    }
}

/// Replay one dead letter: its consumer handles it afresh through the inbox.
#[utoipa::path(
    post, path = "/v1/dead-letters/{id}/replay", tag = "dead letters",
    params(("id" = String, Path, description = "The dead letter's id")),
    responses(
        (status = 202, description = "Replayed: the dead letter as it is now", body = DeadLetterView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "Not a board_admin for every board (*)", body = ErrorBody),
        (status = 404, description = "No dead letter with this id", body = ErrorBody),
        (status = 409, description = "Already replayed (`already_replayed`), or its payload is not an event that can be handled (`not_an_event`)", body = ErrorBody),
        (status = 503, description = "The database did not answer", body = ErrorBody),
    )
)]
pub async fn replay_dead_letter(
    caller: Caller,
    State(db): State<DatabaseConnection>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeadLetterView>), ApiError> {
    require_operator(&caller)?;
    let row = replay::replay_one(&db, &caller, &id).await?;
    tracing::info!(dead_letter = %row.id, consumer = %row.consumer, message_id = %row.message_id, "dead letter replayed");
    Ok((StatusCode::ACCEPTED, Json(row.into())))
}

/// What replaying every dead letter did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplayReport {
    /// The dead letters replayed, as they are now, oldest first.
    pub replayed: Vec<DeadLetterView>,
    /// Those left as they are, each with why.
    pub skipped: Vec<SkippedReplay>,
}

/// A dead letter `POST /v1/dead-letters/replay` left as it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedReplay {
    pub id: String,
    /// `not_an_event` or `already_replayed` (replayed meanwhile).
    pub code: String,
    pub reason: String,
}

/// `POST /v1/dead-letters/replay`'s query.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is read by `replay_dead_letters`
struct ReplayParams {
    /// Only this durable consumer's.
    consumer: Option<String>,
}

/// Replay every dead letter not yet replayed, each in its own transaction.
#[utoipa::path(
    post, path = "/v1/dead-letters/replay", tag = "dead letters",
    params(ReplayParams),
    responses(
        (status = 202, description = "What was replayed and what was left", body = ReplayReport),
        (status = 400, description = "The query string is not valid", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "Not a board_admin for every board (*)", body = ErrorBody),
        (status = 422, description = "consumer is empty", body = ErrorBody),
        (status = 503, description = "The database did not answer", body = ErrorBody),
    )
)]
pub async fn replay_dead_letters(
    caller: Caller,
    State(db): State<DatabaseConnection>,
    raw: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<(StatusCode, Json<ReplayReport>), ApiError> {
    require_operator(&caller)?;
    let Query(raw) = raw.map_err(|rejection| {
        ApiError::bad_request(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    let consumer = raw.get("consumer").map(String::as_str);
    if consumer == Some("") {
        return Err(ApiError::validation(vec![FieldError::new(
            "consumer",
            "must not be empty",
        )]));
    }
    let pending = replay::pending(&db, consumer)
        .await
        .map_err(|e| ApiError::unavailable("the database", e))?;
    let mut report = ReplayReport {
        replayed: Vec::new(),
        skipped: Vec::new(),
    };
    for row in pending {
        match replay::replay_one(&db, &caller, &row.id).await {
            Ok(row) => report.replayed.push(row.into()),
            Err(error @ (ReplayError::NotAnEvent(_) | ReplayError::AlreadyReplayed(_))) => {
                let code = match error {
                    ReplayError::NotAnEvent(_) => "not_an_event",
                    _ => "already_replayed",
                };
                report.skipped.push(SkippedReplay {
                    id: row.id,
                    code: code.into(),
                    reason: error.to_string(),
                });
            }
            // Gone meanwhile: nothing to replay.
            Err(ReplayError::NotFound(_)) => {}
            Err(error @ ReplayError::Database(_)) => return Err(error.into()),
        }
    }
    tracing::info!(
        replayed = report.replayed.len(),
        skipped = report.skipped.len(),
        "dead letters replayed"
    );
    Ok((StatusCode::ACCEPTED, Json(report)))
}

#[cfg(test)]
#[path = "tests/dead_letters.rs"]
mod tests;
