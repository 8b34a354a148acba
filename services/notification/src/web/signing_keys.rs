//! Pathway's webhook signing keys, published for receivers: a JSON Web Key
//! Set at `/.well-known/pathway-signing-keys`, without authentication (public
//! keys are not secret, and a GP system must be able to fetch them before it
//! holds any token). Cached for five minutes, so a receiver that meets an
//! unknown `Pathway-Key-Id` sees a new key soon after it is published.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use crate::application::Notifications;
use crate::channels::webhook::PublishedKey;

/// Where the keys are published.
pub const PATH: &str = "/.well-known/pathway-signing-keys";

#[derive(Debug, Serialize)]
pub struct SigningKeySet<'a> {
    /// Every key a webhook may be signed with, the one signing now first.
    pub keys: &'a [PublishedKey],
}

pub(super) async fn signing_keys(State(notifications): State<Notifications>) -> impl IntoResponse {
    let keys = notifications.channels.signing_keys().published();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(SigningKeySet { keys }).into_response(),
    )
}
