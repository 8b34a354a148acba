//! [`NotifyGateway`]: a local HTTP server that answers as GOV.UK Notify's
//! API does and checks what Notify checks (the JWT, the body).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pathway_notification::settings::NotifySettings;

use serde_json::{Value, json};

use super::serve;

/// What a scripted gateway answers next.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Answer with this status and a Notify-style error body.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    TooMany(u64),
    /// Take the message, then answer only after this long (longer than the
    /// client waits: the send is in doubt).
    TakeThenStall(Duration),
}

/// A notification the gateway took.
#[derive(Debug, Clone)]
pub struct Taken {
    pub id: String,
    /// `sms`, `email` or `letter`.
    pub kind: String,
    pub reference: String,
    pub body: Value,
    /// The `iss` of the JWT it came with: the service id of the account.
    pub iss: String,
    /// When the gateway took it.
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct GatewayState {
    service_id: String,
    secret: String,
    taken: Vec<Taken>,
    /// Every POST, accepted or not.
    posts: usize,
    /// Requests refused for their token (wrong secret, wrong `iss`).
    refused_tokens: usize,
    script: VecDeque<Answer>,
}

/// A local HTTP server that answers as GOV.UK Notify's API v2 does.
#[derive(Clone)]
pub struct NotifyGateway {
    pub base: String,
    pub api_key: String,
    state: Arc<Mutex<GatewayState>>,
}

fn notify_error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "status_code": status.as_u16(),
            "errors": [{"error": error, "message": message}],
        })),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct NotifyClaims {
    iss: String,
    iat: i64,
}

/// Check the bearer token as Notify does: HS256 with the key's secret, `iss`
/// the service id, `iat` within 30 seconds of now.
fn check_token(
    headers: &HeaderMap,
    service_id: &str,
    secret: &str,
) -> Result<String, Box<Response>> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            Box::new(notify_error(
                StatusCode::UNAUTHORIZED,
                "AuthError",
                "Unauthorized: authentication token must be provided",
            ))
        })?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<NotifyClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        Box::new(notify_error(
            StatusCode::FORBIDDEN,
            "AuthError",
            &format!("Invalid token: {e}"),
        ))
    })?
    .claims;
    if claims.iss != service_id {
        return Err(Box::new(notify_error(
            StatusCode::FORBIDDEN,
            "AuthError",
            "Invalid token: service not found",
        )));
    }
    if (chrono::Utc::now().timestamp() - claims.iat).abs() > 30 {
        return Err(Box::new(notify_error(
            StatusCode::FORBIDDEN,
            "AuthError",
            "Error: Your system clock must be accurate to within 30 seconds",
        )));
    }
    Ok(claims.iss)
}

/// Check a send body as Notify does.
fn check_body(kind: &str, body: &Value) -> Result<(), String> {
    let template = body["template_id"]
        .as_str()
        .ok_or("template_id is a required property")?;
    uuid::Uuid::parse_str(template).map_err(|_| "template_id is not a valid UUID")?;
    if !body["personalisation"].is_object() {
        return Err("personalisation should be an object".into());
    }
    match body["reference"].as_str() {
        Some(r) if !r.is_empty() => {}
        _ => return Err("reference is required by Pathway's contract".into()),
    }
    match kind {
        "sms" => {
            let phone = body["phone_number"]
                .as_str()
                .ok_or("phone_number is a required property")?;
            let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
            let uk_mobile = (digits.starts_with("07") && digits.len() == 11)
                || (digits.starts_with("447") && digits.len() == 12);
            if !uk_mobile {
                return Err("phone_number Not a UK mobile number".into());
            }
        }
        "email" => {
            let email = body["email_address"]
                .as_str()
                .ok_or("email_address is a required property")?;
            if !email.contains('@') {
                return Err("email_address Not a valid email address".into());
            }
        }
        "letter" => {
            let p = &body["personalisation"];
            for line in ["address_line_1", "address_line_2", "address_line_3"] {
                if p[line].as_str().is_none_or(str::is_empty) {
                    return Err(format!("personalisation {line} is a required property"));
                }
            }
        }
        other => return Err(format!("no such notification type {other}")),
    }
    Ok(())
}

async fn gateway_send(
    State(state): State<Arc<Mutex<GatewayState>>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let iss;
    let answer = {
        let mut s = state.lock().expect("gateway state");
        iss = match check_token(&headers, &s.service_id, &s.secret) {
            Ok(iss) => iss,
            Err(refused) => {
                s.refused_tokens += 1;
                return *refused;
            }
        };
        s.posts += 1;
        if let Err(message) = check_body(&kind, &body) {
            return notify_error(StatusCode::BAD_REQUEST, "ValidationError", &message);
        }
        match s.script.pop_front() {
            Some(Answer::Status(code)) => {
                let status = StatusCode::from_u16(code).expect("a status");
                return notify_error(status, "Scripted", "scripted failure");
            }
            Some(Answer::TooMany(seconds)) => {
                let mut response = notify_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RateLimitError",
                    "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
                );
                response.headers_mut().insert(
                    "retry-after",
                    seconds.to_string().parse().expect("a header"),
                );
                return response;
            }
            other => other,
        }
    };
    let taken = Taken {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.clone(),
        reference: body["reference"].as_str().unwrap_or_default().to_owned(),
        body: body.clone(),
        iss,
        at: chrono::Utc::now(),
    };
    state
        .lock()
        .expect("gateway state")
        .taken
        .push(taken.clone());
    if let Some(Answer::TakeThenStall(stall)) = answer {
        tokio::time::sleep(stall).await;
    }
    (
        StatusCode::CREATED,
        Json(json!({
            "id": taken.id,
            "reference": taken.reference,
            "content": {"body": body["personalisation"]["body"]},
            "uri": format!("/v2/notifications/{}", taken.id),
            "template": {"id": body["template_id"], "version": 1, "uri": ""},
        })),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Listing {
    reference: Option<String>,
}

async fn gateway_list(
    State(state): State<Arc<Mutex<GatewayState>>>,
    headers: HeaderMap,
    Query(query): Query<Listing>,
) -> Response {
    let mut s = state.lock().expect("gateway state");
    if let Err(refused) = check_token(&headers, &s.service_id, &s.secret) {
        s.refused_tokens += 1;
        return *refused;
    }
    let found: Vec<Value> = s
        .taken
        .iter()
        .filter(|t| query.reference.as_deref().is_none_or(|r| r == t.reference))
        .map(|t| json!({"id": t.id, "reference": t.reference, "type": t.kind, "status": "delivered"}))
        .collect();
    Json(json!({"notifications": found, "links": {"current": "/v2/notifications"}})).into_response()
}

impl NotifyGateway {
    pub async fn start() -> Self {
        let service_id = uuid::Uuid::new_v4().to_string();
        let secret = uuid::Uuid::new_v4().to_string();
        let state = Arc::new(Mutex::new(GatewayState {
            service_id: service_id.clone(),
            secret: secret.clone(),
            ..GatewayState::default()
        }));
        let app = Router::new()
            .route("/v2/notifications/{kind}", post(gateway_send))
            .route("/v2/notifications", get(gateway_list))
            .with_state(state.clone());
        let base = serve(app).await;
        Self {
            base,
            api_key: format!("pathway_test-{service_id}-{secret}"),
            state,
        }
    }

    /// The next answers, in order; then every send is taken.
    pub fn script(&self, answers: &[Answer]) {
        self.state
            .lock()
            .expect("gateway state")
            .script
            .extend(answers.iter().cloned());
    }

    /// As if an earlier process had sent this before it died.
    pub fn already_has(&self, kind: &str, reference: &str) {
        let iss = self.service_id();
        self.state.lock().expect("gateway state").taken.push(Taken {
            id: uuid::Uuid::new_v4().to_string(),
            kind: kind.into(),
            reference: reference.into(),
            body: json!({}),
            iss,
            at: chrono::Utc::now(),
        });
    }

    pub fn taken(&self) -> Vec<Taken> {
        self.state.lock().expect("gateway state").taken.clone()
    }

    pub fn posts(&self) -> usize {
        self.state.lock().expect("gateway state").posts
    }

    /// Requests refused for their token: signed with another account's
    /// secret, or naming another service.
    pub fn refused_tokens(&self) -> usize {
        self.state.lock().expect("gateway state").refused_tokens
    }

    /// The service id in this account's API key: the `iss` of its tokens.
    pub fn service_id(&self) -> String {
        self.state.lock().expect("gateway state").service_id.clone()
    }

    /// A Notify account for this stand-in: its API key, fresh template ids,
    /// and `callback_token` for its status callbacks.
    pub fn account(&self, callback_token: &str) -> NotifySettings {
        NotifySettings {
            base_url: self.base.clone(),
            api_key: Some(self.api_key.clone().into()),
            timeout_ms: 500,
            sms_template_id: uuid::Uuid::new_v4().to_string(),
            email_template_id: uuid::Uuid::new_v4().to_string(),
            letter_template_id: uuid::Uuid::new_v4().to_string(),
            callback_token: Some(callback_token.to_owned().into()),
        }
    }
}
