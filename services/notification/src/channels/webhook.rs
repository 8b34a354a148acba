//! Signed webhooks, for GP systems and receiving services: the message's JSON
//! document POSTed to the URL, with
//!
//! - `Pathway-Delivery`: the delivery id, the same on every attempt, so a
//!   receiver keeps the first and drops repeats;
//! - `Pathway-Timestamp`: seconds since the epoch, so a receiver can refuse
//!   old replays;
//! - `Pathway-Signature`: `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}`
//!   under the shared secret.
//!
//! Only a 2xx answer is a delivery: a redirect is not followed (it is a
//! failed delivery), and a URL whose host is, or resolves to, a loopback,
//! private or link-local address is refused unless the board's settings
//! allow private addresses (`allow_private_addresses`).
//!
//! A webhook cannot be asked whether it already has a message, so a send in
//! doubt is sent again with the same `Pathway-Delivery`.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::http::{self, Addresses};
use super::{Channel, Message, Receipt, SendError, retry_after};
use crate::domain::Address;
use crate::settings::WebhookSettings;

pub const DELIVERY_HEADER: &str = "Pathway-Delivery";
pub const TIMESTAMP_HEADER: &str = "Pathway-Timestamp";
pub const SIGNATURE_HEADER: &str = "Pathway-Signature";

pub struct WebhookClient {
    http: reqwest::Client,
    secret: SecretString,
    addresses: Addresses,
}

/// `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The secret webhooks are signed with: `signing_secret`, or the key kept
/// in `signing_key_file` (created on first use).
pub fn signing_secret(settings: &WebhookSettings) -> anyhow::Result<SecretString> {
    Ok(match &settings.signing_secret {
        Some(secret) => secret.clone(),
        None => SecretString::from(hex::encode(
            pathway_common::auth::load_or_create_key(&settings.signing_key_file)
                .context("cannot read or create the webhook signing key")?,
        )),
    })
}

impl WebhookClient {
    /// A client signing with `secret` that connects only to `addresses`.
    pub fn new(
        settings: &WebhookSettings,
        secret: SecretString,
        addresses: Addresses,
    ) -> anyhow::Result<Self> {
        let http = http::client(Duration::from_millis(settings.timeout_ms.max(1)), addresses)
            .context("cannot build the webhook HTTP client")?;
        Ok(Self {
            http,
            secret,
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
        let timestamp = chrono::Utc::now().timestamp();
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, &message.reference)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(self.secret.expose_secret().as_bytes(), timestamp, &body),
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
        Err(SendError::from_status(status, wait, &text))
    }

    async fn lookup(&self, _message: &Message) -> Result<Option<Receipt>, SendError> {
        Ok(None)
    }
}

#[cfg(test)]
#[path = "tests/webhook.rs"]
mod tests;
