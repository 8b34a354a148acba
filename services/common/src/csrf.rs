//! What stops another site making a signed-in user's browser send the
//! pages' forms: every form that changes something carries a token, and
//! every such request must come from the service's own origin.
//!
//! - **The token** is `<expires>.<signature>`: HMAC-SHA256 over what the
//!   form is for (the pages' session cookie name, so one service's token is
//!   no good on another's), the signed-in user's subject and the expiry.
//!   Nothing is stored: any process with the key can check it. The key is
//!   drawn at random when the process starts, unless `auth.csrf_key_file`
//!   names a key file ([`share_key_from`]): several instances of a service
//!   behind one address share that file, so a form one of them showed is
//!   accepted by the others, and a restart keeps it. A token lives
//!   [`LIFETIME`]; with a drawn key a restart draws a new one, so a form
//!   opened before it is refused and the user is told to reload the page.
//!   The sign-in form,
//!   before anyone is signed in, is bound instead to a random value in a
//!   cookie of its own ([`SignInCookie`]), which another site can neither
//!   read nor set.
//! - **The origin**: a form POST must say, in `Origin` (or, when a browser
//!   leaves it out or sends `null`, `Referer`), that it came from the host it
//!   was sent to (`Host`, or `X-Forwarded-Host` from a proxy in front; a
//!   browser cannot set either on another site's form). When it names
//!   neither (the pages' `Referrer-Policy: no-referrer` makes browsers send
//!   `Origin: null` even to the same origin), the browser's own
//!   `Sec-Fetch-Site` must say `same-origin`. A request with none of the
//!   three is refused: every current browser sends them with a form POST.
//!
//! A refusal is a 403 page ([`Refused`]) that says what happened, that
//! nothing was changed, and to reload the page and send the form again.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, crypto};
use serde::Deserialize;

use crate::auth::Caller;
use crate::http::ApiError;

/// The hidden field every form carries its token in.
pub const FIELD: &str = "csrf_token";

/// How long a form's token is good for after the page was shown: a
/// working shift.
pub const LIFETIME: TimeDelta = TimeDelta::hours(8);

/// The key forms are signed with: from `auth.csrf_key_file`, set at start,
/// or drawn at random on first use. It never leaves the process.
static KEY: OnceLock<Vec<u8>> = OnceLock::new();

fn key() -> &'static [u8] {
    KEY.get_or_init(|| rand::random::<[u8; 32]>().to_vec())
}

/// The form key kept in `path` (created on first use, like every key file:
/// [`crate::keys`]), as every instance that shares the file derives it: an
/// HMAC of a fixed label (its base64 text, 256 bits), so the file's key is
/// never used as it is.
pub fn key_from_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let secret = crate::keys::load_or_create_key(path).with_context(|| {
        format!(
            "cannot read or create the form key (auth.csrf_key_file) {}",
            path.display()
        )
    })?;
    let signed = crypto::sign(
        b"pathway-csrf-key",
        &EncodingKey::from_secret(&secret),
        Algorithm::HS256,
    )
    .context("cannot derive the form key")?;
    Ok(signed.into_bytes())
}

/// Sign and check forms with the key kept in `path` from now on, so every
/// instance sharing the file accepts the others' forms. Call it at start,
/// before a page is shown; a second call with another key is an error.
pub fn share_key_from(path: &Path) -> anyhow::Result<()> {
    let key = key_from_file(path)?;
    if *KEY.get_or_init(|| key.clone()) != key {
        anyhow::bail!(
            "the form key is already in use: set auth.csrf_key_file before any page is shown"
        );
    }
    Ok(())
}

fn message(purpose: &str, subject: &str, expires: i64) -> Vec<u8> {
    // Lengths first, so no two (purpose, subject) pairs run together alike.
    format!(
        "pathway-csrf\n{}:{purpose}\n{}:{subject}\n{expires}",
        purpose.len(),
        subject.len()
    )
    .into_bytes()
}

/// A token for `subject`'s forms of `purpose`, good for [`LIFETIME`].
pub fn token(purpose: &str, subject: &str) -> String {
    token_expiring(purpose, subject, Utc::now() + LIFETIME)
}

/// A token for `subject`'s forms of `purpose` that expires at `expires`.
pub fn token_expiring(purpose: &str, subject: &str, expires: DateTime<Utc>) -> String {
    token_under(key(), purpose, subject, expires)
}

/// A token under `key`, as [`token_expiring`] makes them under the process's.
pub fn token_under(key: &[u8], purpose: &str, subject: &str, expires: DateTime<Utc>) -> String {
    let expires = expires.timestamp();
    let key = EncodingKey::from_secret(key);
    // HMAC-SHA256 over bytes cannot fail; an empty signature never verifies.
    let signature = crypto::sign(&message(purpose, subject, expires), &key, Algorithm::HS256)
        .unwrap_or_default();
    format!("{expires}.{signature}")
}

/// The token the signed-in pages of `cookie` put in `caller`'s forms.
pub fn session_token(cookie: &str, caller: &Caller) -> String {
    token(cookie, &caller.subject)
}

/// Why a form was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `Origin` (or `Referer`) names another site.
    CrossOrigin(String),
    /// Neither `Origin` nor `Referer` was sent.
    NoOrigin,
    /// The form had no `csrf_token`.
    TokenMissing,
    /// The token is not one this process made for this user and form.
    TokenWrong,
    /// The token is genuine but older than [`LIFETIME`].
    TokenExpired,
    /// The sign-in form came back without its cookie.
    CookieMissing,
}

impl Reason {
    /// The code the refusal page names.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CrossOrigin(_) => "csrf_cross_origin",
            Self::NoOrigin => "csrf_no_origin",
            Self::TokenMissing => "csrf_token_missing",
            Self::TokenWrong => "csrf_token_wrong",
            Self::TokenExpired => "csrf_token_expired",
            Self::CookieMissing => "csrf_cookie_missing",
        }
    }

    fn explained(&self) -> String {
        match self {
            Self::CrossOrigin(from) => format!(
                "This form was sent from {from}, not from these pages. Another site may have \
                 tried to act in your name."
            ),
            Self::NoOrigin => "Your browser did not say which page this form was sent from \
                (no Origin, Referer or Sec-Fetch-Site header), so it cannot be told apart from \
                another site's."
                .to_owned(),
            Self::TokenMissing => format!(
                "The form had no security token (the hidden field {FIELD}). It may have come \
                 from another site, or from a page saved before the token was added."
            ),
            Self::TokenWrong => format!(
                "The form's security token (the hidden field {FIELD}) is not one these pages \
                 gave you: the page may have been opened by someone else who was signed in, or \
                 before the service restarted."
            ),
            Self::TokenExpired => format!(
                "The form's security token (the hidden field {FIELD}) has expired: the page \
                 was opened more than {} hours ago.",
                LIFETIME.num_hours()
            ),
            Self::CookieMissing => "Your browser did not send back the sign-in page's cookie, \
                which the sign-in form is checked against. Allow cookies for this site."
                .to_owned(),
        }
    }
}

/// A form refused: a 403 page saying why, and to reload the page.
#[derive(Debug)]
pub struct Refused {
    pub reason: Reason,
    /// Where the page's link goes: the page the form was on when it was
    /// this service's own, else `/`.
    back: String,
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage<'a> {
    code: &'a str,
    explained: String,
    back: &'a str,
}

impl Refused {
    fn new(reason: Reason, headers: &HeaderMap) -> Self {
        let back = header_str(headers, header::REFERER)
            .filter(|referer| {
                origin_of(referer)
                    .is_some_and(|(scheme, authority)| own(headers, scheme, &authority))
            })
            .and_then(|referer| referer.split_once("://").map(|(_, rest)| rest))
            .and_then(|rest| rest.find('/').map(|at| rest[at..].to_owned()))
            .unwrap_or_else(|| "/".to_owned());
        Self { reason, back }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        tracing::warn!(reason = self.reason.code(), "a page's form was refused");
        let page = RefusedPage {
            code: self.reason.code(),
            explained: self.reason.explained(),
            back: &self.back,
        };
        match page.render() {
            Ok(html) => (StatusCode::FORBIDDEN, Html(html)).into_response(),
            Err(error) => ApiError::Internal(anyhow::anyhow!(
                "the refusal page cannot be rendered: {error}"
            ))
            .into_response(),
        }
    }
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `scheme://authority` of an `Origin` or a URL, the authority lower-cased
/// and without the scheme's default port.
fn origin_of(url: &str) -> Option<(&str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // A URL's user-info is no part of its origin.
    let authority = authority.rsplit('@').next().unwrap_or_default();
    (!authority.is_empty()).then(|| (scheme, normalised(scheme, authority)))
}

fn normalised(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return authority,
    };
    authority
        .strip_suffix(default)
        .map(str::to_owned)
        .unwrap_or(authority)
}

/// Whether `scheme://authority` is the host this request was sent to.
fn own(headers: &HeaderMap, scheme: &str, authority: &str) -> bool {
    let forwarded =
        header_str(headers, "x-forwarded-host").and_then(|hosts| hosts.split(',').next());
    [header_str(headers, header::HOST), forwarded]
        .into_iter()
        .flatten()
        .any(|host| normalised(scheme, host.trim()) == authority)
}

/// Whether a state-changing request came from the service's own pages:
/// `Origin` when it names one; else `Referer`; else, as when the pages'
/// `Referrer-Policy: no-referrer` makes a browser send `Origin: null` even
/// to the page's own origin, the browser's `Sec-Fetch-Site`, which no page
/// can set, must say `same-origin`.
pub fn check_origin(headers: &HeaderMap) -> Result<(), Refused> {
    let refuse = |reason| Err(Refused::new(reason, headers));
    let origin = header_str(headers, header::ORIGIN)
        .map(str::trim)
        .filter(|origin| !origin.is_empty());
    let named = origin
        .filter(|origin| *origin != "null")
        .or_else(|| header_str(headers, header::REFERER).map(str::trim));
    if let Some(named) = named {
        return match origin_of(named) {
            Some((scheme, authority)) if own(headers, scheme, &authority) => Ok(()),
            Some((scheme, authority)) => {
                refuse(Reason::CrossOrigin(format!("{scheme}://{authority}")))
            }
            None => refuse(Reason::CrossOrigin(named.to_owned())),
        };
    }
    match (header_str(headers, "sec-fetch-site"), origin) {
        (Some("same-origin"), _) => Ok(()),
        (Some(site), _) => refuse(Reason::CrossOrigin(format!(
            "a page of another origin (Sec-Fetch-Site: {site})"
        ))),
        // A sandboxed frame, a file, or a page that hides its origin.
        (None, Some(origin)) => refuse(Reason::CrossOrigin(format!(
            "a page that hides its origin (Origin: {origin})"
        ))),
        (None, None) => refuse(Reason::NoOrigin),
    }
}

/// Whether `token` is one this process made for `subject`'s forms of
/// `purpose`, and has not expired.
pub fn check_token(
    purpose: &str,
    subject: &str,
    token: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    check_token_under(key(), purpose, subject, token)
        .map_err(|reason| Refused::new(reason, headers))
}

/// Whether `token` was made under `key` for `subject`'s forms of `purpose`,
/// and has not expired.
pub fn check_token_under(
    key: &[u8],
    purpose: &str,
    subject: &str,
    token: Option<&str>,
) -> Result<(), Reason> {
    let refuse = |reason| reason;
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refuse(Reason::TokenMissing))?;
    let (expires, signature) = token
        .split_once('.')
        .and_then(|(expires, signature)| Some((expires.parse::<i64>().ok()?, signature)))
        .ok_or_else(|| refuse(Reason::TokenWrong))?;
    let key = DecodingKey::from_secret(key);
    let genuine = crypto::verify(
        signature,
        &message(purpose, subject, expires),
        &key,
        Algorithm::HS256,
    )
    .unwrap_or(false);
    if !genuine {
        return Err(refuse(Reason::TokenWrong));
    }
    if expires <= Utc::now().timestamp() {
        return Err(refuse(Reason::TokenExpired));
    }
    Ok(())
}

#[derive(Deserialize, Default)]
struct TokenField {
    csrf_token: Option<String>,
}

/// The token field of a URL-encoded form body.
pub fn token_in(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<TokenField>(body)
        .ok()
        .and_then(|f| f.csrf_token)
}

/// The sign-in form's own cookie: a random value the form's token is bound
/// to, before anyone is signed in.
pub struct SignInCookie {
    name: String,
}

impl SignInCookie {
    /// The cookie beside the session cookie `session`.
    pub fn beside(session: &str) -> Self {
        Self {
            name: format!("{session}_sign_in"),
        }
    }

    fn purpose(&self) -> String {
        format!("sign-in {}", self.name)
    }

    /// The value the browser sent, if any.
    pub fn sent(&self, headers: &HeaderMap) -> Option<String> {
        crate::http::cookie::value(headers, &self.name)
            .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// A fresh random value.
    pub fn fresh() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    /// The `Set-Cookie` value that keeps `value` for the sign-in form.
    pub fn set_cookie(&self, value: &str, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!(
            "{}={value}; HttpOnly; SameSite=Strict; Path=/sign-in{secure}",
            self.name
        )
    }

    /// The token for the sign-in form of a browser holding `value`.
    pub fn token(&self, value: &str) -> String {
        token(&self.purpose(), value)
    }

    /// Whether a posted sign-in form came from this origin and carries the
    /// token for the cookie it came with.
    pub fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
        check_origin(headers)?;
        let value = self
            .sent(headers)
            .ok_or_else(|| Refused::new(Reason::CookieMissing, headers))?;
        check_token(&self.purpose(), &value, token_in(body).as_deref(), headers)
    }
}

#[cfg(test)]
#[path = "tests/csrf.rs"]
mod tests;
