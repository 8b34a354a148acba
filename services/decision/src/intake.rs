//! The outbound adapter to intake: who sent a referral, asked over NATS
//! request/reply with this service's token. Decision keeps no patient data
//! and no referrer identity of its own; it asks when a referrer wants to see
//! a decision.

use std::time::Duration;

use async_nats::client::RequestErrorKind;
use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::http::ApiError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Intake's endpoint for a referral's details (intake's `rpc::REFERRAL_GET`;
/// repeated here so that decision does not depend on the intake crate).
pub const REFERRAL_GET: &str = "pathway.rpc.intake.referral.get";

/// What intake says about a referral's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrer {
    Subject(String),
    /// Intake has no such referral (or will not say).
    Unknown,
}

#[derive(Clone)]
pub struct IntakeClient {
    nats: async_nats::Client,
    service_token: Option<SecretString>,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Reply {
    referrer_subject: Option<String>,
    error: Option<ReplyError>,
}

#[derive(Deserialize)]
struct ReplyError {
    status: u16,
    message: String,
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
    fn token(&self, auth: &Authenticator) -> Result<String, ApiError> {
        if let Some(token) = &self.service_token {
            return Ok(token.expose_secret().to_owned());
        }
        let claims = Claims::new(
            "decision",
            Role::Service,
            vec!["*".into()],
            Duration::from_secs(300),
        );
        auth.issue(&claims).map_err(|error| {
            ApiError::Internal(error.context(
                "no service token: set auth.service_token when tokens come from an identity provider",
            ))
        })
    }

    /// Who sent `referral_id`, and why we ask (`purpose`, for intake's audit row).
    pub async fn referrer_of(
        &self,
        auth: &Authenticator,
        referral_id: &str,
        purpose: &str,
    ) -> Result<Referrer, ApiError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Authorization",
            format!("Bearer {}", self.token(auth)?).as_str(),
        );
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
                let why = match error.kind() {
                    RequestErrorKind::NoResponders => "intake is not answering",
                    RequestErrorKind::TimedOut => "intake did not answer in time",
                    _ => "the request to intake failed",
                };
                tracing::warn!(%error, "referrer look-up failed");
                unavailable(why)
            })?;
        let reply: Reply = serde_json::from_slice(&message.payload).map_err(|error| {
            ApiError::Internal(anyhow::anyhow!("intake's answer is not readable: {error}"))
        })?;
        if let Some(error) = reply.error {
            return match error.status {
                404 => Ok(Referrer::Unknown),
                status => Err(ApiError::Internal(anyhow::anyhow!(
                    "intake refused the referrer look-up ({status}): {}",
                    error.message
                ))),
            };
        }
        reply
            .referrer_subject
            .map(Referrer::Subject)
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("intake's answer has no referrer_subject"))
            })
    }
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "referrer_check_unavailable",
        format!("{why}, so the referral's referrer cannot be checked now: try again shortly"),
    )
}
