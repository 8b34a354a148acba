//! Unit tests of `openapi.rs`: which operations get which plumbing answers.

use utoipa::OpenApi;

use super::*;
use crate::http::{BearerAuth, ErrorBody};

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct Thing {
    name: String,
}

#[utoipa::path(
    post, path = "/things", request_body = Thing,
    responses(
        (status = 201, description = "Made"),
        (status = 422, description = "The name is taken", body = ErrorBody),
    )
)]
#[allow(dead_code)]
fn make_thing() {}

#[utoipa::path(
    post, path = "/callbacks", request_body(content = String, content_type = "text/csv"),
    responses((status = 204, description = "Kept")),
    security(())
)]
#[allow(dead_code)]
fn callback() {}

#[utoipa::path(get, path = "/things", responses((status = 200, description = "The things")))]
#[allow(dead_code)]
fn list_things() {}

#[derive(OpenApi)]
#[openapi(
    paths(make_thing, callback, list_things),
    components(schemas(Thing, ErrorBody)),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = []))
)]
struct Doc;

fn statuses(doc: &utoipa::openapi::OpenApi, path: &str, post: bool) -> Vec<String> {
    let item = &doc.paths.paths[path];
    let operation = if post { &item.post } else { &item.get };
    let operation = operation.as_ref().expect("the operation");
    operation.responses.responses.keys().cloned().collect()
}

#[test]
fn a_secured_operation_with_a_json_body_declares_every_plumbing_answer() {
    let doc = Doc::openapi();
    assert_eq!(
        statuses(&doc, "/things", true),
        ["201", "400", "401", "413", "415", "422", "429", "503"]
    );
}

#[test]
fn an_answer_the_operation_declares_keeps_its_own_description() {
    let doc = Doc::openapi();
    let RefOr::T(answer) = &doc.paths.paths["/things"]
        .post
        .as_ref()
        .expect("POST /things")
        .responses
        .responses["422"]
    else {
        panic!("an inline answer")
    };
    assert_eq!(answer.description, "The name is taken");
}

#[test]
fn an_anonymous_operation_without_json_declares_no_401_and_no_json_answers() {
    let doc = Doc::openapi();
    assert_eq!(
        statuses(&doc, "/callbacks", true),
        ["204", "413", "429", "503"]
    );
    assert_eq!(
        statuses(&doc, "/things", false),
        ["200", "401", "429", "503"]
    );
}
