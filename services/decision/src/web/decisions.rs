//! `/v1/referrals/{id}/decision`: a referral's decisions.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use pathway_common::auth::Caller;
use pathway_common::http::{ApiError, ErrorBody, FieldError};
use uuid::Uuid;

use super::types::DecisionHistory;
use crate::application::Decisions;

/// A referral's current decision and the decisions it superseded.
#[utoipa::path(
    get, path = "/v1/referrals/{id}/decision", tag = "decisions",
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = DecisionHistory),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Neither a clinician nor a referrer", body = ErrorBody),
        (status = 404, description = "No decision on a referral that this token may see", body = ErrorBody),
        (status = 503, description = "Intake cannot confirm the referrer now, or the database did not answer", body = ErrorBody),
    )
)]
pub async fn get_decision(
    State(decisions): State<Decisions>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DecisionHistory>, ApiError> {
    let referral = Uuid::parse_str(&id).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_referral_id",
            "the referral id must be a UUID",
        )
        .with_fields(vec![FieldError::new("id", "not a UUID")])
    })?;
    let history = decisions.decision_history(&caller, referral).await?;
    Ok(Json(history.into()))
}
