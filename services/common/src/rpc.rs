//! Serving an authenticated request/reply endpoint over NATS: intake's
//! referral look-up and vetting's clinical texts. A queue subscription
//! answered a few requests at a time until shutdown; the caller taken from
//! the request's `Authorization: Bearer <service token>` header; and the
//! refusal (`LookupRefusal`) a reply carries instead of an answer. What a
//! request asks and how it is answered is each service's own.
//!
//! Nothing the asker sends can stop the loop: a request without a reply
//! subject is dropped, and one that cannot be answered gets a refusal.

use std::future::Future;

use futures::StreamExt;
use pathway_proto::v1::{LookupRefusal, RefusalCode};
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthError, Authenticator, Caller, bearer};

/// Requests answered at once: each reads its database and writes its audit
/// row, and a consumer asks for a batch of events' data side by side.
const ANSWERED_AT_ONCE: usize = 16;

/// Why a request got no answer: the code and message of its refusal.
#[derive(Debug)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// As a reply carries it.
    pub fn into_proto(self) -> LookupRefusal {
        LookupRefusal {
            code: self.code as i32,
            message: self.message,
        }
    }
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        let code = match error {
            AuthError::Forbidden(_) => RefusalCode::Forbidden,
            AuthError::KeysUnavailable(_) => RefusalCode::Unavailable,
            _ => RefusalCode::Unauthenticated,
        };
        Self::new(code, error.to_string())
    }
}

/// Who sent `message`, from its bearer token.
pub async fn caller(
    auth: &Authenticator,
    message: &async_nats::Message,
) -> Result<Caller, Refusal> {
    let header = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Authorization"))
        .map(|v| v.as_str());
    let token = bearer(header)?;
    let claims = auth.verify(token).await?;
    Ok(Caller {
        subject: claims.sub,
        name: claims.name,
        role: claims.role,
        boards: claims.boards.into_iter().collect(),
        source: "nats".into(),
    })
}

/// Answer requests on `subject` (in queue group `queue`) with what `answer`
/// encodes for each, until `shutdown`; an error when the subscription ends
/// before it (the worker's supervisor subscribes again).
pub async fn serve<F, Fut>(
    client: async_nats::Client,
    subject: &'static str,
    queue: &'static str,
    shutdown: CancellationToken,
    answer: F,
) -> anyhow::Result<()>
where
    F: Fn(async_nats::Message) -> Fut,
    Fut: Future<Output = Vec<u8>>,
{
    let requests = client.queue_subscribe(subject, queue.into()).await?;
    requests
        .take_until(shutdown.cancelled())
        .for_each_concurrent(ANSWERED_AT_ONCE, |message| {
            let client = &client;
            let answer = &answer;
            async move {
                let Some(reply) = message.reply.clone() else {
                    return;
                };
                let encoded = answer(message).await;
                if let Err(error) = client.publish(reply, encoded.into()).await {
                    tracing::warn!(%error, subject, "cannot reply to a request");
                }
            }
        })
        .await;
    if !shutdown.is_cancelled() {
        anyhow::bail!("the subscription to {subject} ended");
    }
    Ok(())
}

/// Ask `subject` with `payload`, `token` as the bearer and the current
/// trace context in the headers, waiting at most `timeout`; the reply. The
/// asker decides what a failure means to it.
pub async fn ask(
    nats: &async_nats::Client,
    subject: &'static str,
    token: &str,
    payload: Vec<u8>,
    timeout: std::time::Duration,
) -> Result<async_nats::Message, async_nats::RequestError> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {token}").as_str());
    crate::telemetry::inject_current_context(|key, value| {
        headers.insert(key, value);
    });
    let request = async_nats::client::Request::new()
        .payload(payload.into())
        .headers(headers)
        .timeout(Some(timeout));
    nats.send_request(subject, request).await
}
