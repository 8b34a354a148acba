//! Requests as they arrive, parsed once here into the domain's types: a
//! board from the path, the worklist's status filter, a question's body.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use pathway_common::http::{ApiError, FieldError};
use pathway_proto::BoardCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::application::worklist_view::WorklistFilter;
use crate::domain::status::Status;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// Comma-separated statuses; `awaiting_vetting,in_vetting,info_requested` when left out.
    pub status: Option<String>,
    /// Only the referrals the caller has claimed.
    pub mine: Option<bool>,
}

impl WorklistQuery {
    pub fn filter(&self) -> Result<WorklistFilter, ApiError> {
        Ok(WorklistFilter {
            statuses: parse_statuses(self.status.as_deref())?,
            mine: self.mine == Some(true),
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InformationRequestBody {
    /// The question for the referrer (no patient identifiers: it travels to the GP as written).
    pub question: Option<String>,
}

/// A board named in a path.
pub fn parse_board(board: &str) -> Result<BoardCode, ApiError> {
    BoardCode::parse(board).map_err(|message| {
        ApiError::not_found(message).with_fields(vec![FieldError::new("board", "unknown board")])
    })
}

/// A comma-separated list of statuses; `None` (the waiting ones) when blank.
pub fn parse_statuses(list: Option<&str>) -> Result<Option<Vec<Status>>, ApiError> {
    let list = match list.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(list) => list,
    };
    let mut out = Vec::new();
    for s in list.split(',').map(str::trim) {
        let Some(status) = Status::parse(s) else {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "unknown status {s:?}: expected one or more of {}",
                all.join(", ")
            ))
            .with_fields(vec![FieldError::new("status", "unknown status")]));
        };
        out.push(status);
    }
    Ok(Some(out))
}

/// A query string, or the 400 that says what is wrong with it.
pub fn query<T: Default>(raw: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    match raw {
        Ok(Query(value)) => Ok(value),
        Err(rejection) => Err(ApiError::bad_request(format!(
            "the query is not valid: {}",
            rejection.body_text()
        ))),
    }
}
