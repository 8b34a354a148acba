//! The request/reply client every service uses to read a referral's
//! identifiable data from intake, the only service that holds it. Intake
//! checks the service token and writes an audit row for every read.

use std::sync::Arc;
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{Authenticator, Claims, Role};

/// Intake's endpoint for a referral as received.
pub const REFERRAL_GET: &str = "pathway.rpc.intake.referral.get";

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Intake is not there or too slow: worth trying again.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Intake answered with a refusal, or something unreadable.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct IntakeClient {
    nats: async_nats::Client,
    auth: Arc<Authenticator>,
    /// The subject of the token signed locally when none is configured.
    service: &'static str,
    service_token: Option<SecretString>,
    timeout: Duration,
}

impl IntakeClient {
    pub fn new(
        nats: async_nats::Client,
        auth: Arc<Authenticator>,
        service: &'static str,
        service_token: Option<SecretString>,
        timeout: Duration,
    ) -> Self {
        Self {
            nats,
            auth,
            service,
            service_token,
            timeout,
        }
    }

    /// The configured service token, or one signed with the local key (the
    /// embedded default).
    fn token(&self) -> Result<String, IntakeError> {
        if let Some(token) = &self.service_token {
            return Ok(token.expose_secret().to_owned());
        }
        let claims = Claims::new(
            self.service,
            Role::Service,
            vec!["*".into()],
            Duration::from_secs(300),
        );
        self.auth.issue(&claims).map_err(|error| {
            IntakeError::Failed(error.context(
                "no service token: set auth.service_token when tokens come from an identity provider",
            ))
        })
    }

    /// The referral as intake holds it (see intake's `rpc` module), or
    /// `None` when intake has no such referral. `purpose` goes into intake's
    /// audit row.
    pub async fn referral(
        &self,
        referral_id: &str,
        purpose: &str,
    ) -> Result<Option<serde_json::Value>, IntakeError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Authorization",
            format!("Bearer {}", self.token()?).as_str(),
        );
        crate::telemetry::inject_current_context(|key, value| {
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
                tracing::warn!(%error, "a request to intake failed");
                IntakeError::Unavailable(match error.kind() {
                    RequestErrorKind::NoResponders => "intake is not answering",
                    RequestErrorKind::TimedOut => "intake did not answer in time",
                    _ => "the request to intake failed",
                })
            })?;
        let reply: serde_json::Value = serde_json::from_slice(&message.payload)
            .map_err(|e| anyhow::anyhow!("intake's answer is not readable: {e}"))?;
        if let Some(error) = reply.get("error") {
            let status = error.get("status").and_then(|s| s.as_u64()).unwrap_or(0);
            if status == 404 {
                return Ok(None);
            }
            let text = error
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("no reason given");
            return Err(anyhow::anyhow!("intake refused the request ({status}): {text}").into());
        }
        Ok(Some(reply))
    }
}
