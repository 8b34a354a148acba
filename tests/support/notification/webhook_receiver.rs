//! [`WebhookReceiver`]: a local HTTP server that verifies each webhook's
//! signature as a GP system would: Ed25519 over
//! `{timestamp}.{delivery}.{url}.{body}`, with Pathway's public key, and a
//! timestamp within five minutes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;

use super::{WEBHOOK_SIGNING_SEED, serve};

/// A webhook the receiver took, with its signature checked, and what it
/// was sent with, for a test to check again.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub delivery: String,
    pub document: Value,
    /// The URL it was sent to, as the board configured it.
    pub url: String,
    pub timestamp: String,
    pub key_id: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// When the receiver took it.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The bytes Pathway signs, as a receiver builds them.
pub fn signed_message(timestamp: &str, delivery: &str, url: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}.{delivery}.{url}.").into_bytes();
    message.extend_from_slice(body);
    message
}

/// Whether `signature` (`v2=<base64>`) is `key`'s over the message.
pub fn verifies(
    key: &VerifyingKey,
    signature: &str,
    timestamp: &str,
    delivery: &str,
    url: &str,
    body: &[u8],
) -> bool {
    signature
        .strip_prefix("v2=")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .is_some_and(|signature| {
            key.verify(&signed_message(timestamp, delivery, url, body), &signature)
                .is_ok()
        })
}

#[derive(Default)]
struct ReceiverState {
    base: String,
    hooks: Vec<Hook>,
    script: VecDeque<u16>,
    bad_signatures: usize,
}

/// A local HTTP server that takes signed webhooks, as a GP system would.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub base: String,
    state: Arc<Mutex<ReceiverState>>,
}

async fn receive(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let timestamp = header("pathway-timestamp");
    let delivery = header("pathway-delivery");
    let signature = header("pathway-signature");
    let key = SigningKey::from_bytes(&WEBHOOK_SIGNING_SEED).verifying_key();
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    let mut s = state.lock().expect("receiver state");
    let url = format!("{}/{path}", s.base);
    if !verifies(&key, &signature, &timestamp, &delivery, &url, &body) || !fresh {
        s.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if let Some(code) = s.script.pop_front() {
        return StatusCode::from_u16(code).expect("a status");
    }
    s.hooks.push(Hook {
        path,
        delivery,
        document: serde_json::from_slice(&body).unwrap_or(Value::Null),
        url,
        timestamp,
        key_id: header("pathway-key-id"),
        signature,
        body: body.to_vec(),
        at: chrono::Utc::now(),
    });
    StatusCode::NO_CONTENT
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let app = Router::new()
            .route("/{path}", post(receive))
            .with_state(state.clone());
        let base = serve(app).await;
        state.lock().expect("receiver state").base = base.clone();
        Self { base, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.lock().expect("receiver state").hooks.clone()
    }

    pub fn bad_signatures(&self) -> usize {
        self.state.lock().expect("receiver state").bad_signatures
    }

    pub fn script(&self, statuses: &[u16]) {
        self.state
            .lock()
            .expect("receiver state")
            .script
            .extend(statuses.iter().copied());
    }
}
