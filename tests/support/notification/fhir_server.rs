//! [`FhirServer`]: a local HTTP server standing in for a FHIR R4 server a
//! board hands referrals on to. It takes a POST at its base URL as a FHIR
//! server takes a `transaction` Bundle: only `application/fhir+json`
//! (anything else is a 415), only a Bundle of type `transaction` (anything
//! else is a 400 with an `OperationOutcome`), answered with a
//! `transaction-response` Bundle. It checks Pathway's signature as the
//! webhook receiver does, and a test may script the next answers (a 500,
//! or a 4xx with an `OperationOutcome` that names the problem).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use super::{WEBHOOK_SIGNING_SEED, serve, verifies};

/// A request the server answered, whatever it answered.
#[derive(Debug, Clone)]
pub struct FhirPost {
    pub path: String,
    pub content_type: String,
    pub delivery: String,
    /// Whether Pathway's signature over it verified.
    pub signed: bool,
    pub body: Value,
    /// What the server answered.
    pub status: u16,
}

#[derive(Default)]
struct FhirState {
    base: String,
    posts: Vec<FhirPost>,
    script: VecDeque<u16>,
}

/// A local FHIR R4 server's stand-in, for hand-offs to a FHIR route.
#[derive(Clone)]
pub struct FhirServer {
    pub base: String,
    state: Arc<Mutex<FhirState>>,
}

fn outcome(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/fhir+json")],
        body.to_string(),
    )
        .into_response()
}

async fn take(
    State(state): State<Arc<Mutex<FhirState>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let key = SigningKey::from_bytes(&WEBHOOK_SIGNING_SEED).verifying_key();
    let delivery = header("pathway-delivery");
    let mut s = state.lock().expect("server state");
    let url = format!("{}/{path}", s.base);
    let signed = verifies(
        &key,
        &header("pathway-signature"),
        &header("pathway-timestamp"),
        &delivery,
        &url,
        &body,
    );
    let document: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let content_type = header("content-type");
    let scripted = s.script.pop_front();
    let answer = if !content_type.starts_with("application/fhir+json") {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE).into_response()
    } else if let Some(code) = scripted {
        let status = StatusCode::from_u16(code).expect("a status");
        if status.is_client_error() {
            outcome(
                status,
                "business-rule",
                "the service takes no referrals for this practice",
            )
        } else {
            status.into_response()
        }
    } else if document["resourceType"] != "Bundle" || document["type"] != "transaction" {
        outcome(
            StatusCode::BAD_REQUEST,
            "invalid",
            "a transaction Bundle is expected at the base URL",
        )
    } else {
        let entries: Vec<Value> = document["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(n, e)| {
                let kind = e["resource"]["resourceType"].as_str().unwrap_or("Resource");
                json!({"response": {"status": "201 Created", "location": format!("{kind}/{n}/_history/1")}})
            })
            .collect();
        let response =
            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries});
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            response.to_string(),
        )
            .into_response()
    };
    s.posts.push(FhirPost {
        path,
        content_type,
        delivery,
        signed,
        body: document,
        status: answer.status().as_u16(),
    });
    answer
}

impl FhirServer {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FhirState::default()));
        let app = Router::new()
            .route("/{path}", post(take))
            .with_state(state.clone());
        let base = serve(app).await;
        state.lock().expect("server state").base = base.clone();
        Self { base, state }
    }

    /// The base URL of one FHIR server's stand-in, e.g. `{base}/R4`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Every request it answered, in order.
    pub fn posts(&self) -> Vec<FhirPost> {
        self.state.lock().expect("server state").posts.clone()
    }

    /// Answer the next requests with these statuses, in order.
    pub fn script(&self, statuses: &[u16]) {
        self.state
            .lock()
            .expect("server state")
            .script
            .extend(statuses.iter().copied());
    }
}
