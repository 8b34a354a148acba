//! Unit tests of `error.rs`: which answers say when to try again.

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::*;

#[test]
fn a_dependency_that_did_not_answer_is_a_503_with_retry_after() {
    let response = ApiError::unavailable("the database", anyhow::anyhow!("connection refused"))
        .into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.headers()[header::RETRY_AFTER],
        RETRY_AFTER_SECONDS.to_string()
    );
}

#[test]
fn a_503_with_its_own_code_says_when_to_try_again_too() {
    let response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "identity_provider_unavailable",
        "the keys cannot be fetched",
    )
    .into_response();
    assert_eq!(
        response.headers()[header::RETRY_AFTER],
        RETRY_AFTER_SECONDS.to_string()
    );
}

#[test]
fn a_callers_mistake_has_no_retry_after() {
    let response = ApiError::validation(vec![FieldError::new("patient.chi", "not a CHI number")])
        .into_response();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers().get(header::RETRY_AFTER).is_none());
}

#[test]
fn a_refused_token_is_a_401_and_a_forbidden_one_a_403() {
    let expired: ApiError = AuthError::Expired.into();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let forbidden: ApiError = AuthError::Forbidden("not this board".into()).into();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}
