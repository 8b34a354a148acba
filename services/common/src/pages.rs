//! What the services' web pages share: the stylesheet (NHS colours, focus
//! styles, forms, tables), served at `/assets/pathway.css`, and signing in.
//!
//! Behind a board's OpenID Connect proxy the token arrives in the
//! `Authorization` header; on the embedded default a user pastes a
//! development token into a sign-in page, kept in an HttpOnly,
//! SameSite=Strict cookie (the strict cookie is what stops other sites
//! posting forms to the pages).

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::auth::{Caller, Role};

/// The pages' stylesheet.
pub const STYLESHEET: &str = include_str!("pathway.css");

/// `GET /assets/pathway.css`.
pub fn asset_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        "/assets/pathway.css",
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                STYLESHEET,
            )
        }),
    )
}

/// The caller signed in to these pages with one of `roles`: from the proxy's
/// `Authorization` header, else from the `cookie`. Anyone else is sent to
/// `/sign-in`.
pub async fn signed_in<S>(
    parts: &mut Parts,
    state: &S,
    cookie: &str,
    roles: &[Role],
) -> Result<Caller, Response>
where
    S: Send + Sync,
    Caller: FromRequestParts<S>,
{
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        let token = cookie_value(&parts.headers, cookie)
            .ok_or_else(|| Redirect::to("/sign-in").into_response())?;
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Redirect::to("/sign-in").into_response())?;
        parts.headers.insert(header::AUTHORIZATION, value);
    }
    match Caller::from_request_parts(parts, state).await {
        Ok(caller) if roles.contains(&caller.role) => Ok(caller),
        _ => Err(Redirect::to("/sign-in?expired=1").into_response()),
    }
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Signed in: a redirect to `to` that sets the session cookie.
pub fn start_session(cookie: &str, token: &str, secure: bool, to: &str) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let mut response = Redirect::to(to).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{cookie}={token}; HttpOnly; SameSite=Strict; Path=/{secure}"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Signed out: back to the sign-in page, the cookie gone.
pub fn end_session(cookie: &str) -> Response {
    let mut response = Redirect::to("/sign-in").into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{cookie}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
