//! [`WebhookReceiver`]: a local HTTP server that verifies each webhook's
//! signature as a GP system would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{WEBHOOK_SECRET, serve};

/// A webhook the receiver took, with its signature checked.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub delivery: String,
    pub document: Value,
}

#[derive(Default)]
struct ReceiverState {
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
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&body);
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    let mut s = state.lock().expect("receiver state");
    if header("pathway-signature") != expected || !fresh {
        s.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if let Some(code) = s.script.pop_front() {
        return StatusCode::from_u16(code).expect("a status");
    }
    s.hooks.push(Hook {
        path,
        delivery: header("pathway-delivery"),
        document: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    StatusCode::NO_CONTENT
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let app = Router::new()
            .route("/{path}", post(receive))
            .with_state(state.clone());
        Self {
            base: serve(app).await,
            state,
        }
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
