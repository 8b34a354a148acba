//! What the services' web pages share: the stylesheet (NHS colours, focus
//! styles, forms, tables), served at `/assets/pathway.css`, and signing in
//! (the `/sign-in` and `/sign-out` routes and their page, [`SignIn`]).
//!
//! Behind a board's OpenID Connect proxy the token arrives in the
//! `Authorization` header; on the embedded default a user pastes a
//! development token into a sign-in page, kept in an HttpOnly,
//! SameSite=Strict cookie. What stops other sites posting the pages' forms
//! is [`crate::csrf`]: a token in every form, the sign-in form included, and
//! a check of its origin. With `auth.token_pasting` off (required in
//! production) the sign-in page and the cookie are not used at all: a
//! request without the proxy's header is refused, saying to sign in through
//! the board's single sign-on.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{Authenticator, Caller, Role};
use crate::csrf::{self, SignInCookie};
use crate::http::ApiError;

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
        let pasting = parts
            .extensions
            .get::<Arc<Authenticator>>()
            .is_some_and(|auth| auth.token_pasting());
        if !pasting {
            return Err(single_sign_on_only(StatusCode::UNAUTHORIZED));
        }
        let token = crate::http::cookie::value(&parts.headers, cookie)
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

/// A form posted to the signed-in pages of `cookie`: from this origin (or
/// refused 403), by a user signed in with one of `roles` (or sent to sign
/// in), carrying a token made for that user (or refused 403). Nothing is
/// read from the form before all three hold.
pub async fn signed_in_form<S, T>(
    request: Request,
    state: &S,
    cookie: &str,
    roles: &[Role],
) -> Result<(Caller, T), Response>
where
    S: Send + Sync,
    Caller: FromRequestParts<S>,
    T: DeserializeOwned,
{
    let (mut parts, body) = request.into_parts();
    csrf::check_origin(&parts.headers).map_err(IntoResponse::into_response)?;
    let caller = signed_in(&mut parts, state, cookie, roles).await?;
    let headers = parts.headers.clone();
    let body = Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(IntoResponse::into_response)?;
    csrf::check_token(
        cookie,
        &caller.subject,
        csrf::token_in(&body).as_deref(),
        &headers,
    )
    .map_err(IntoResponse::into_response)?;
    let form = serde_urlencoded::from_bytes(&body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_form",
            format!("the form cannot be read: {error}"),
        )
        .into_response()
    })?;
    Ok((caller, form))
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

/// Who a service's pages are for, and what its sign-in page says: the
/// routes are the same for every service ([`SignIn::routes`]).
#[derive(Clone)]
pub struct SignIn {
    /// The service's name in the header, e.g. "Pathway vetting".
    pub service: &'static str,
    /// Where a signed-in user lands, e.g. `/worklist`.
    pub home: &'static str,
    /// The session cookie's name.
    pub cookie: &'static str,
    /// The roles these pages are for.
    pub roles: &'static [Role],
    /// Who signs in, in a sentence: "clinicians".
    pub people: &'static str,
    /// Why another role is refused: "the vetting pages are for clinicians".
    pub refused: &'static str,
    /// What a user sent back to sign in is told.
    pub expired: &'static str,
    /// The command that makes a development token.
    pub token_command: &'static str,
    /// The page's footer.
    pub footer: String,
    /// Mark the session cookie `Secure` (anything but plain-http loopback).
    pub secure_cookies: bool,
    pub auth: Arc<Authenticator>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    page: &'a SignIn,
    error: Option<String>,
    /// The form's token, bound to the sign-in cookie.
    csrf: String,
}

#[derive(Deserialize, Default)]
struct SignInQuery {
    expired: Option<String>,
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
}

impl SignIn {
    /// `GET /sign-in`, `POST /sign-in` (a pasted token, checked and kept in
    /// the session cookie) and `POST /sign-out`.
    pub fn routes(self) -> Router {
        Router::new()
            .route("/sign-in", get(sign_in_page).post(sign_in))
            .route("/sign-out", post(sign_out))
            .with_state(Arc::new(self))
    }

    fn sign_in_cookie(&self) -> SignInCookie {
        SignInCookie::beside(self.cookie)
    }

    /// The page, its form bound to the browser's sign-in cookie `value`
    /// (set here when the browser did not send it).
    fn render(&self, error: Option<String>, status: StatusCode, value: Option<String>) -> Response {
        let cookie = self.sign_in_cookie();
        let (value, set) = match value {
            Some(value) => (value, None),
            None => {
                let value = SignInCookie::fresh();
                let set = cookie.set_cookie(&value, self.secure_cookies);
                (value, Some(set))
            }
        };
        let page = SignInPage {
            page: self,
            error,
            csrf: cookie.token(&value),
        };
        match page.render() {
            Ok(html) => {
                let mut response = (status, Html(html)).into_response();
                if let Some(value) = set.and_then(|set| HeaderValue::from_str(&set).ok()) {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
                response
            }
            Err(error) => ApiError::Internal(anyhow::anyhow!(
                "the sign-in page cannot be rendered: {error}"
            ))
            .into_response(),
        }
    }
}

/// With token pasting off: who has no token from the single sign-on proxy
/// is told to sign in through it.
fn single_sign_on_only(status: StatusCode) -> Response {
    ApiError::new(
        status,
        "single_sign_on_only",
        "sign in through your board's single sign-on: these pages take no pasted token \
         (the proxy in front of Pathway sends your token in the Authorization header)",
    )
    .into_response()
}

async fn sign_in_page(
    State(page): State<Arc<SignIn>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    if !page.auth.token_pasting() {
        return single_sign_on_only(StatusCode::NOT_FOUND);
    }
    let error = query.expired.map(|_| page.expired.to_owned());
    let value = page.sign_in_cookie().sent(&headers);
    page.render(error, StatusCode::OK, value)
}

async fn sign_in(State(page): State<Arc<SignIn>>, headers: HeaderMap, body: Bytes) -> Response {
    if !page.auth.token_pasting() {
        return single_sign_on_only(StatusCode::NOT_FOUND);
    }
    let cookie = page.sign_in_cookie();
    if let Err(refused) = cookie.check(&headers, &body) {
        return refused.into_response();
    }
    let form: SignInForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(error) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_form",
                format!("the form cannot be read: {error}"),
            )
            .into_response();
        }
    };
    let token = form.token.trim();
    let problem = if token.is_empty() {
        Some("enter your token".to_owned())
    } else {
        match page.auth.verify(token).await {
            Ok(claims) if page.roles.contains(&claims.role) => None,
            Ok(claims) => Some(format!(
                "this token is for the role {}: {}",
                claims.role, page.refused
            )),
            Err(error) => Some(error.to_string()),
        }
    };
    match problem {
        Some(error) => page.render(
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
            cookie.sent(&headers),
        ),
        None => start_session(page.cookie, token, page.secure_cookies, page.home),
    }
}

/// Signing out is a form like any other: from this origin, with the
/// signed-in user's token. With no session left there is nothing to
/// protect, and the cookie is cleared all the same.
async fn sign_out(State(page): State<Arc<SignIn>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(refused) = csrf::check_origin(&parts.headers) {
        return refused.into_response();
    }
    if let Ok(caller) = signed_in(&mut parts, &(), page.cookie, page.roles).await {
        let headers = parts.headers.clone();
        let body = match Bytes::from_request(Request::from_parts(parts, body), &()).await {
            Ok(body) => body,
            Err(rejection) => return rejection.into_response(),
        };
        let token = csrf::token_in(&body);
        if let Err(refused) =
            csrf::check_token(page.cookie, &caller.subject, token.as_deref(), &headers)
        {
            return refused.into_response();
        }
    }
    end_session(page.cookie)
}
