//! A GOV.UK Notify-compatible gateway: `POST /v2/notifications/{sms,email,letter}`
//! with `template_id`, `personalisation` and `reference`, and a look-up by
//! reference (`GET /v2/notifications?reference=...`). Each request carries a
//! fresh JWT (HS256, `iss` = the service id, `iat` = now) signed with the API
//! key's secret, as Notify requires.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::http::{self, Addresses, MAX_RESPONSE_BYTES};
use super::{Channel, Message, Receipt, SendError, retry_after};
use crate::domain::{Address, ChannelKind};
use crate::settings::NotifySettings;

/// The UUIDs at the end of a Notify API key: `{name}-{service id}-{secret}`.
const UUID_LEN: usize = 36;

pub struct NotifyClient {
    http: reqwest::Client,
    base_url: String,
    service_id: String,
    secret: SecretString,
    sms_template_id: String,
    email_template_id: String,
    letter_template_id: String,
}

#[derive(Serialize)]
struct TokenClaims<'a> {
    iss: &'a str,
    iat: i64,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    notifications: Vec<Listed>,
}

#[derive(Deserialize)]
struct Listed {
    id: String,
    #[serde(default)]
    reference: Option<String>,
}

/// The service id and the secret of a Notify API key.
pub fn split_api_key(key: &str) -> anyhow::Result<(String, String)> {
    let key = key.trim();
    let length = key.len();
    anyhow::ensure!(
        length > 2 * UUID_LEN + 1 && key.is_ascii(),
        "notify.api_key is not a Notify API key ({{name}}-{{service id}}-{{secret}})"
    );
    let secret = &key[length - UUID_LEN..];
    let service_id = &key[length - 2 * UUID_LEN - 1..length - UUID_LEN - 1];
    anyhow::ensure!(
        key.as_bytes()[length - UUID_LEN - 1] == b'-'
            && uuid::Uuid::parse_str(service_id).is_ok()
            && uuid::Uuid::parse_str(secret).is_ok(),
        "notify.api_key does not end with a service id and a secret, each a UUID"
    );
    Ok((service_id.to_owned(), secret.to_owned()))
}

impl NotifyClient {
    pub fn new(settings: &NotifySettings, api_key: &SecretString) -> anyhow::Result<Self> {
        let (service_id, secret) = split_api_key(api_key.expose_secret())?;
        for (name, id) in [
            ("notify.sms_template_id", &settings.sms_template_id),
            ("notify.email_template_id", &settings.email_template_id),
            ("notify.letter_template_id", &settings.letter_template_id),
        ] {
            uuid::Uuid::parse_str(id.trim())
                .with_context(|| format!("{name} must be a Notify template id (a UUID)"))?;
        }
        // The deployment's own gateway, at the address its settings name.
        let http = http::client(
            Duration::from_millis(settings.timeout_ms.max(1)),
            Addresses::Any,
        )
        .context("cannot build the Notify HTTP client")?;
        Ok(Self {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            service_id,
            secret: SecretString::from(secret),
            sms_template_id: settings.sms_template_id.trim().to_owned(),
            email_template_id: settings.email_template_id.trim().to_owned(),
            letter_template_id: settings.letter_template_id.trim().to_owned(),
        })
    }

    fn token(&self) -> Result<String, SendError> {
        let claims = TokenClaims {
            iss: &self.service_id,
            iat: chrono::Utc::now().timestamp(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.secret.expose_secret().as_bytes()),
        )
        .map_err(|error| SendError::Permanent(format!("cannot sign the Notify token: {error}")))
    }

    /// The request body Notify expects for `message`.
    fn body(&self, message: &Message) -> Result<(&'static str, serde_json::Value), SendError> {
        let mut personalisation = serde_json::Map::new();
        personalisation.insert("subject".into(), message.subject.clone().into());
        personalisation.insert("body".into(), message.body.clone().into());
        let reference = message.reference.clone();
        Ok(match (&message.channel, &message.address) {
            (ChannelKind::Sms, Address::Mobile(mobile)) => (
                "sms",
                json!({
                    "phone_number": mobile.expose(),
                    "template_id": self.sms_template_id,
                    "personalisation": personalisation,
                    "reference": reference,
                }),
            ),
            (ChannelKind::Email, Address::Email(email)) => (
                "email",
                json!({
                    "email_address": email.expose(),
                    "template_id": self.email_template_id,
                    "personalisation": personalisation,
                    "reference": reference,
                }),
            ),
            (ChannelKind::Letter, Address::Letter { lines, postcode }) => {
                // Notify takes up to seven lines, the postcode last.
                let mut all: Vec<&String> = lines.expose().iter().take(6).collect();
                all.push(postcode.expose());
                for (i, line) in all.into_iter().enumerate() {
                    personalisation.insert(format!("address_line_{}", i + 1), line.clone().into());
                }
                (
                    "letter",
                    json!({
                        "template_id": self.letter_template_id,
                        "personalisation": personalisation,
                        "reference": reference,
                    }),
                )
            }
            (channel, _) => {
                return Err(SendError::Permanent(format!(
                    "Notify does not send {channel} messages to this address"
                )));
            }
        })
    }
}

#[async_trait]
impl Channel for NotifyClient {
    fn name(&self) -> &'static str {
        "notify"
    }

    async fn send(&self, message: &Message) -> Result<Receipt, SendError> {
        let (kind, body) = self.body(message)?;
        let response = self
            .http
            .post(format!("{}/v2/notifications/{kind}", self.base_url))
            .bearer_auth(self.token()?)
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::from_reqwest(&e))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let body = http::read_capped(response)
            .await
            .map_err(|e| SendError::from_reqwest(&e))?;
        if !status.is_success() {
            return Err(SendError::from_status(status, wait, &body.text()));
        }
        let created: Created = readable(&body).map_err(|reason| SendError::Transient {
            reason: format!("Notify's answer is not readable: {reason}"),
            // It said yes; the look-up will find it.
            in_doubt: true,
        })?;
        Ok(Receipt {
            gateway_id: created.id,
        })
    }

    async fn lookup(&self, message: &Message) -> Result<Option<Receipt>, SendError> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v2/notifications", self.base_url),
            [("reference", message.reference.as_str())],
        )
        .map_err(|e| SendError::Permanent(format!("notify.base_url is not a URL: {e}")))?;
        let response = self
            .http
            .get(url)
            .bearer_auth(self.token()?)
            .send()
            .await
            .map_err(|e| {
                // A look-up changes nothing: never in doubt.
                let mut error = SendError::from_reqwest(&e);
                if let SendError::Transient { in_doubt, .. } = &mut error {
                    *in_doubt = false;
                }
                error
            })?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let body = http::read_capped(response)
            .await
            .map_err(|e| SendError::from_reqwest(&e))?;
        if !status.is_success() {
            return Err(SendError::from_status(status, wait, &body.text()));
        }
        let listing: Listing = readable(&body).map_err(|reason| {
            SendError::Permanent(format!("Notify's listing is not readable: {reason}"))
        })?;
        Ok(listing
            .notifications
            .into_iter()
            .find(|n| n.reference.as_deref() == Some(message.reference.as_str()))
            .map(|n| Receipt { gateway_id: n.id }))
    }
}

/// A capped answer's JSON; why not, when it is cut short or not JSON.
fn readable<T: serde::de::DeserializeOwned>(body: &http::Capped) -> Result<T, String> {
    if body.truncated {
        return Err(format!(
            "it is longer than {MAX_RESPONSE_BYTES} bytes, and no more is read"
        ));
    }
    serde_json::from_slice(&body.bytes).map_err(|error| error.to_string())
}

#[cfg(test)]
#[path = "tests/notify.rs"]
mod tests;
