//! Signed webhooks, for GP systems and receiving services: the message's JSON
//! document POSTed to the URL, with
//!
//! - `Pathway-Delivery`: the delivery id, the same on every attempt, so a
//!   receiver keeps the first and drops repeats;
//! - `Pathway-Timestamp`: seconds since the epoch, so a receiver can refuse
//!   old replays;
//! - `Pathway-Key-Id`: which of Pathway's published keys signed it;
//! - `Pathway-Signature`: `v2=` and the base64 Ed25519 signature of
//!   `{timestamp}.{delivery}.{url}.{body}` ([`signed_message`]).
//!
//! Signatures are Ed25519, not a shared HMAC secret: a receiver verifies
//! with a public key ([`SigningKeys::published`], served at
//! `/.well-known/pathway-signing-keys`) that cannot sign, so no GP system can
//! forge Pathway's messages to another. The URL is signed so that a message
//! one receiver got cannot be replayed to another; `docs/webhooks.md` tells
//! receivers how to verify.
//!
//! Only a 2xx answer is a delivery: a redirect is not followed (it is a
//! failed delivery), and a URL whose host is, or resolves to, a loopback,
//! private or link-local address is refused unless the board's settings
//! allow private addresses (`allow_private_addresses`).
//!
//! A webhook cannot be asked whether it already has a message, so a send in
//! doubt is sent again with the same `Pathway-Delivery`.
//!
//! A document that is a FHIR resource (it has a `resourceType`: a hand-off
//! to a FHIR route, [`crate::domain::handoff_fhir`]) goes as
//! `application/fhir+json`, signed the same way, and a refusal's
//! `OperationOutcome` is read into the delivery's reason.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::http::{self, Addresses};
use super::{Channel, Message, Receipt, SendError, retry_after};
use crate::domain::Address;
use crate::domain::handoff_fhir::{FHIR_JSON, outcome_text};
use crate::settings::WebhookSettings;

pub const DELIVERY_HEADER: &str = "Pathway-Delivery";
pub const TIMESTAMP_HEADER: &str = "Pathway-Timestamp";
pub const KEY_ID_HEADER: &str = "Pathway-Key-Id";
pub const SIGNATURE_HEADER: &str = "Pathway-Signature";

/// The bytes signed: the timestamp, the delivery id, the URL as the board
/// configured it and the body, joined by dots.
pub fn signed_message(timestamp: i64, delivery: &str, url: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}.{delivery}.{url}.").into_bytes();
    message.extend_from_slice(body);
    message
}

/// A public key's id: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// Whether `header` (`v2=<base64>`) is `key`'s signature of the message.
pub fn verify(
    key: &VerifyingKey,
    header: &str,
    timestamp: i64,
    delivery: &str,
    url: &str,
    body: &[u8],
) -> bool {
    let Some(signature) = header
        .strip_prefix("v2=")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
    else {
        return false;
    };
    key.verify(&signed_message(timestamp, delivery, url, body), &signature)
        .is_ok()
}

/// A public key as published: a JSON Web Key (RFC 8037, `OKP`/`Ed25519`),
/// with the key's 32 bytes in standard base64 too, for receivers without a
/// JWK library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedKey {
    pub kid: String,
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// The public key, base64url without padding (the JWK member).
    pub x: String,
    /// The same 32 bytes in standard base64.
    pub public_key: String,
}

impl PublishedKey {
    fn of(key: &VerifyingKey) -> Self {
        Self {
            kid: key_id(key),
            kty: "OKP",
            crv: "Ed25519",
            alg: "EdDSA",
            use_: "sig",
            x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
            public_key: STANDARD.encode(key.as_bytes()),
        }
    }
}

/// The key webhooks are signed with, and every public key receivers may
/// verify with: the signing key's, then those of `published_key_files` (a
/// key being retired, or the next one).
pub struct SigningKeys {
    signing: SigningKey,
    kid: String,
    published: Vec<PublishedKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.kid)
            .field("published", &self.published)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// The keys in `settings`' files, each created (at random, mode 0600,
    /// atomically) when missing.
    pub fn load(settings: &WebhookSettings) -> anyhow::Result<Self> {
        let signing = seed(&settings.signing_key_file)?;
        let others = settings
            .published_key_files
            .iter()
            .map(|path| seed(path))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self::from_seeds(signing, &others))
    }

    /// Signing with `signing`, publishing its public key and `others`'.
    pub fn from_seeds(signing: [u8; 32], others: &[[u8; 32]]) -> Self {
        let signing = SigningKey::from_bytes(&signing);
        let public = signing.verifying_key();
        let mut published = vec![PublishedKey::of(&public)];
        for other in others {
            let key = PublishedKey::of(&SigningKey::from_bytes(other).verifying_key());
            if !published.contains(&key) {
                published.push(key);
            }
        }
        Self {
            kid: key_id(&public),
            signing,
            published,
        }
    }

    /// The id of the key that signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys receivers may verify with, the signing key's first.
    pub fn published(&self) -> &[PublishedKey] {
        &self.published
    }

    /// `v2=` and the base64 signature of [`signed_message`].
    pub fn sign(&self, timestamp: i64, delivery: &str, url: &str, body: &[u8]) -> String {
        let signature = self
            .signing
            .sign(&signed_message(timestamp, delivery, url, body));
        format!("v2={}", STANDARD.encode(signature.to_bytes()))
    }
}

/// The 32-byte Ed25519 seed kept in `path`.
fn seed(path: &Path) -> anyhow::Result<[u8; 32]> {
    let key = pathway_common::keys::load_or_create_key(path).with_context(|| {
        format!(
            "cannot read or create the webhook signing key {}",
            path.display()
        )
    })?;
    <[u8; 32]>::try_from(key.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "the webhook signing key in {} is {} bytes: an Ed25519 key is exactly 32 random bytes (64 hex digits); remove the file to have one created",
            path.display(),
            key.len()
        )
    })
}

pub struct WebhookClient {
    http: reqwest::Client,
    keys: std::sync::Arc<SigningKeys>,
    addresses: Addresses,
}

impl WebhookClient {
    /// A client signing with `keys` that connects only to `addresses`.
    pub fn new(
        settings: &WebhookSettings,
        keys: std::sync::Arc<SigningKeys>,
        addresses: Addresses,
    ) -> anyhow::Result<Self> {
        let http = http::client(Duration::from_millis(settings.timeout_ms.max(1)), addresses)
            .context("cannot build the webhook HTTP client")?;
        Ok(Self {
            http,
            keys,
            addresses,
        })
    }
}

#[async_trait]
impl Channel for WebhookClient {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, message: &Message) -> Result<Receipt, SendError> {
        let Address::Webhook(url) = &message.address else {
            return Err(SendError::Permanent("a webhook needs a URL".into()));
        };
        let document = message
            .document
            .as_ref()
            .ok_or_else(|| SendError::Permanent("the webhook has no document".into()))?;
        let body = serde_json::to_vec(document)
            .map_err(|e| SendError::Permanent(format!("cannot encode the document: {e}")))?;
        http::check_url(url, self.addresses)
            .map_err(|refused| SendError::Permanent(refused.to_string()))?;
        let fhir = document.get("resourceType").is_some();
        let media_type = if fhir { FHIR_JSON } else { "application/json" };
        let timestamp = chrono::Utc::now().timestamp();
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .header(reqwest::header::ACCEPT, media_type)
            .header(DELIVERY_HEADER, &message.reference)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(KEY_ID_HEADER, self.keys.kid())
            .header(
                SIGNATURE_HEADER,
                self.keys.sign(timestamp, &message.reference, url, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::from_reqwest(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Receipt {
                gateway_id: message.reference.clone(),
            });
        }
        let wait = retry_after(response.headers());
        // At most a capped part of the receiver's error page, for the reason.
        let text = http::read_capped(response)
            .await
            .map(|body| body.text())
            .unwrap_or_default();
        let text = match fhir.then(|| outcome_text(&text)).flatten() {
            Some(outcome) => outcome,
            None => text,
        };
        Err(SendError::from_status(status, wait, &text))
    }

    async fn lookup(&self, _message: &Message) -> Result<Option<Receipt>, SendError> {
        Ok(None)
    }
}

#[cfg(test)]
#[path = "tests/webhook.rs"]
mod tests;
