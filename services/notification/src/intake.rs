//! The outbound adapter to intake: a referral's contact details, asked over
//! NATS request/reply with this service's token. Notification copies only
//! what each delivery needs into that delivery's row.

use std::time::Duration;

use async_nats::client::RequestErrorKind;
use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::pii::Pii;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::{ChannelKind, Contacts};

/// Intake's endpoint for a referral's details (intake's `rpc::REFERRAL_GET`;
/// repeated here so that notification does not depend on the intake crate).
pub const REFERRAL_GET: &str = "pathway.rpc.intake.referral.get";

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Intake has no such referral, or will not give it to this service.
    #[error("intake refused the contact look-up ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Intake cannot answer now: ask again later.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct IntakeClient {
    nats: async_nats::Client,
    service_token: Option<SecretString>,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Reply {
    referral: Option<Document>,
    error: Option<ReplyError>,
}

#[derive(Deserialize)]
struct ReplyError {
    status: u16,
    message: String,
}

/// The parts of intake's stored referral that messages need.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Document {
    patient: PatientPart,
    referrer: ReferrerPart,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PatientPart {
    given_name: String,
    family_name: String,
    contact: ContactPart,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactPart {
    preferred: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
    address: Option<AddressPart>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddressPart {
    lines: Vec<String>,
    postcode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReferrerPart {
    practice_code: String,
    clinician_name: String,
    /// As intake stores it: `{"channel": "email", "address": "..."}`.
    reply: Option<ReplyPart>,
    /// As a referrer sends it.
    reply_channel: Option<String>,
    reply_address: Option<String>,
}

#[derive(Deserialize)]
struct ReplyPart {
    channel: String,
    address: String,
}

impl IntakeClient {
    pub fn new(
        nats: async_nats::Client,
        service_token: Option<SecretString>,
        timeout: Duration,
    ) -> Self {
        Self {
            nats,
            service_token,
            timeout,
        }
    }

    /// The configured service token, or one signed with the local key.
    fn token(&self, auth: &Authenticator) -> anyhow::Result<String> {
        if let Some(token) = &self.service_token {
            return Ok(token.expose_secret().to_owned());
        }
        let claims = Claims::new(
            "notification",
            Role::Service,
            vec!["*".into()],
            Duration::from_secs(300),
        );
        auth.issue(&claims).map_err(|error| {
            error.context(
                "no service token: set auth.service_token when tokens come from an identity provider",
            )
        })
    }

    /// The contact details of `referral_id`, and why we ask (`purpose`, for
    /// intake's audit row).
    pub async fn contacts_of(
        &self,
        auth: &Authenticator,
        referral_id: &str,
        purpose: &str,
    ) -> Result<Contacts, IntakeError> {
        let token = self
            .token(auth)
            .map_err(|error| IntakeError::Unavailable(format!("{error:#}")))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").as_str());
        pathway_common::telemetry::inject_current_context(|key, value| {
            headers.insert(key, value);
        });
        let body = serde_json::json!({"referral_id": referral_id, "purpose": purpose});
        let request = async_nats::client::Request::new()
            .payload(body.to_string().into())
            .headers(headers)
            .timeout(Some(self.timeout));
        let message = self
            .nats
            .send_request(REFERRAL_GET, request)
            .await
            .map_err(|error| {
                IntakeError::Unavailable(match error.kind() {
                    RequestErrorKind::NoResponders => "intake is not answering".to_owned(),
                    RequestErrorKind::TimedOut => "intake did not answer in time".to_owned(),
                    _ => format!("the request to intake failed: {error}"),
                })
            })?;
        let reply: Reply = serde_json::from_slice(&message.payload).map_err(|error| {
            IntakeError::Unavailable(format!("intake's answer is not readable: {error}"))
        })?;
        if let Some(error) = reply.error {
            return Err(match error.status {
                status @ (400..=499) => IntakeError::Refused {
                    status,
                    message: error.message,
                },
                status => IntakeError::Unavailable(format!(
                    "intake failed the contact look-up ({status}): {}",
                    error.message
                )),
            });
        }
        let document = reply.referral.ok_or_else(|| IntakeError::Refused {
            status: 502,
            message: "intake's answer has no referral".into(),
        })?;
        Ok(contacts(document))
    }
}

fn some(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn contacts(document: Document) -> Contacts {
    let Document { patient, referrer } = document;
    let contact = patient.contact;
    let address = contact.address.unwrap_or_default();
    let reply = match referrer.reply {
        Some(reply) => Some((reply.channel, reply.address)),
        None => some(referrer.reply_channel).zip(some(referrer.reply_address)),
    }
    .and_then(|(channel, address)| Some((ChannelKind::parse(&channel)?, address)));
    Contacts {
        patient_given_name: Pii::new(patient.given_name),
        patient_family_name: Pii::new(patient.family_name),
        preferred: contact
            .preferred
            .as_deref()
            .and_then(ChannelKind::parse)
            .filter(|c| *c != ChannelKind::Webhook),
        mobile: some(contact.mobile).map(Pii::new),
        email: some(contact.email).map(Pii::new),
        address_lines: Pii::new(address.lines),
        postcode: some(address.postcode).map(Pii::new),
        referrer_name: referrer.clinician_name,
        practice_code: referrer.practice_code,
        reply,
    }
}

#[cfg(test)]
#[path = "tests/intake.rs"]
mod tests;
