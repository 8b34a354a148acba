//! The answers every operation of a Pathway API may give because of the
//! plumbing it runs behind, not because of its own rules, declared once for
//! every OpenAPI document: `#[openapi(modifiers(&BearerAuth, &CommonAnswers))]`.
//!
//! - 401 from the bearer token ([`Caller`](crate::auth::Caller)), on every
//!   operation that asks for one;
//! - 400, 413, 415 and 422 from a JSON body ([`JsonBody`](super::JsonBody)),
//!   on every operation that takes one (413 on any body: the body limit);
//! - 429 from the requests per token ([`rate_limit`](super::rate_limit)) and
//!   503 from the time limit or a dependency away, on every operation.
//!
//! An operation that declares one of these itself keeps its own description.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Adds the plumbing's answers to every operation: see the module docs.
pub struct CommonAnswers;

impl utoipa::Modify for CommonAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        let secured_by_default = openapi
            .security
            .as_ref()
            .is_some_and(|requirements| !is_anonymous(requirements));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_answers(operation, secured_by_default);
            }
        }
    }
}

/// Whether `requirements` let a caller in without credentials: an empty
/// requirement (`security(())`) among them, or none at all.
fn is_anonymous(requirements: &[SecurityRequirement]) -> bool {
    requirements.is_empty()
        || requirements
            .iter()
            .any(|requirement| *requirement == SecurityRequirement::default())
}

fn add_answers(operation: &mut Operation, secured_by_default: bool) {
    let secured = match &operation.security {
        Some(requirements) => !is_anonymous(requirements),
        None => secured_by_default,
    };
    let (has_body, json_body) = operation
        .request_body
        .as_ref()
        .map_or((false, false), |body| {
            (
                true,
                body.content
                    .keys()
                    .any(|kind| kind == "application/json" || kind.ends_with("+json")),
            )
        });
    let mut answers = Vec::new();
    if secured {
        answers.push((
            "401",
            "No bearer token, or one that is expired or not valid",
        ));
    }
    if json_body {
        answers.extend([
            ("400", "The body is not JSON"),
            ("415", "The body is not sent as JSON (`Content-Type`)"),
            (
                "422",
                "A field is missing, of the wrong type or not valid: each one named",
            ),
        ]);
    }
    if has_body {
        answers.push(("413", "The body is over the size limit"));
    }
    answers.extend([
        (
            "429",
            "Too many requests for this token: wait for `Retry-After` seconds",
        ),
        (
            "503",
            "The request took too long, or something the service depends on did not answer: \
             nothing was changed, send it again after `Retry-After` seconds",
        ),
    ]);
    for (status, description) in answers {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_answer(description));
    }
}

/// An [`ErrorBody`](super::ErrorBody) answer described by `description`.
fn error_answer(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

#[cfg(test)]
#[path = "tests/openapi.rs"]
mod tests;
