//! Requests as they arrive, parsed once here into the domain's types: a
//! board from the path, the worklist's status filter and page, a question's
//! body.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use pathway_common::http::{ApiError, FieldError};
use pathway_proto::BoardCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::application::worklist_view::{WorklistCursor, WorklistFilter, WorklistPage};
use crate::domain::status::Status;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// Comma-separated statuses; `awaiting_vetting,in_vetting,info_requested` when left out.
    pub status: Option<String>,
    /// Only the referrals the caller has claimed.
    pub mine: Option<bool>,
    /// Referrals in the page: 1 to 500, 50 when left out.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// `next_after` of the previous page, as it was given: only the referrals after it follow.
    pub after: Option<String>,
}

impl WorklistQuery {
    pub fn filter(&self) -> Result<WorklistFilter, ApiError> {
        Ok(WorklistFilter {
            statuses: parse_statuses(self.status.as_deref())?,
            mine: self.mine == Some(true),
        })
    }

    /// The page asked for, or a 400 naming every parameter that is not valid.
    pub fn page(&self) -> Result<WorklistPage, ApiError> {
        parse_page(self.limit.as_deref(), self.after.as_deref())
    }
}

/// A page's `limit` and `after`, or a 400 naming each that is not valid.
pub fn parse_page(limit: Option<&str>, after: Option<&str>) -> Result<WorklistPage, ApiError> {
    let mut errors = Vec::new();
    let limit = match pathway_common::page::limit(limit) {
        Ok(limit) => limit,
        Err(error) => {
            errors.push(error);
            pathway_common::page::DEFAULT_LIMIT
        }
    };
    let after = match after.map(WorklistCursor::decode) {
        None => None,
        Some(Some(cursor)) => Some(cursor),
        Some(None) => {
            errors.push(FieldError::new(
                "after",
                "must be the next_after of a previous page, as it was given",
            ));
            None
        }
    };
    if errors.is_empty() {
        Ok(WorklistPage { limit, after })
    } else {
        Err(bad_query(errors))
    }
}

/// 400 naming each query parameter that is not valid, and why.
pub fn bad_query(errors: Vec<FieldError>) -> ApiError {
    ApiError::bad_request(format!(
        "the query is not valid: {}",
        pathway_common::validation::describe(&errors)
    ))
    .with_fields(errors)
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
