//! The notification service under test, beside a real intake (its contact
//! details come from there), with two real HTTP servers started by the test:
//! [`NotifyGateway`], which answers as GOV.UK Notify's API does and checks
//! what Notify checks (the JWT, the body), [`WebhookReceiver`], which
//! verifies each webhook's signature as a GP system would, and [`SmtpSink`],
//! a real SMTP server (mailin-embedded) on a free loopback port.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pathway_common::auth::{Authenticator, Role};
use pathway_common::settings::{DatabaseSettings, HttpSettings};
use pathway_notification::application::Notifications;
use pathway_notification::db::delivery;
use pathway_notification::settings::{
    BoardChannels, MessageGateway, NotifySettings, ReferrerChannel, SenderSettings, Settings,
    SmtpSettings, SmtpTls, WebhookGateway, WebhookSettings,
};
use pathway_notification::startup::{Application, Workers};
use pathway_proto::v1::{self as proto, Event, Payload};
use prost::Message as _;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::{Backend, eventually};

/// The secret webhook receivers share with the service in tests.
pub const WEBHOOK_SECRET: &str = "test-webhook-signing-secret";

/// The token the gateway presents on its status callbacks in tests.
pub const CALLBACK_TOKEN: &str = "test-notify-callback-token";

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

/// An e-mail the SMTP sink took.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as it came, headers and body.
    pub raw: String,
}

impl Mail {
    /// The first header called `name`, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                found = Some(value.trim().to_owned());
            }
        }
        found
    }

    /// The body, decoded from its transfer encoding.
    pub fn body(&self) -> String {
        let body = self
            .raw
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or_default();
        match self.header("Content-Transfer-Encoding").as_deref() {
            Some("quoted-printable") => String::from_utf8(
                quoted_printable::decode(body, quoted_printable::ParseMode::Strict)
                    .expect("valid quoted-printable"),
            )
            .expect("UTF-8"),
            None | Some("7bit" | "8bit") => body.to_owned(),
            Some(other) => panic!("the test sink does not decode {other}"),
        }
    }
}

#[derive(Default)]
struct SmtpState {
    mails: Vec<Mail>,
    /// Reply codes for the next messages' end of data, in order; then 250.
    script: VecDeque<u16>,
    /// Messages whose data was sent in full, taken or not.
    transactions: usize,
}

/// One SMTP session's handler (mailin clones it per connection).
#[derive(Clone)]
struct SmtpHandler {
    state: Arc<Mutex<SmtpState>>,
    recipients: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpHandler {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.recipients = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mut state = self.state.lock().expect("smtp state");
        state.transactions += 1;
        if let Some(code) = state.script.pop_front() {
            return mailin_embedded::Response::custom(code, format!("scripted {code}"));
        }
        state.mails.push(Mail {
            recipients: std::mem::take(&mut self.recipients),
            raw: String::from_utf8_lossy(&self.data).into_owned(),
        });
        mailin_embedded::response::OK
    }
}

/// A real SMTP server on a free loopback port (plain text, no AUTH), taking
/// every message unless scripted otherwise.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<SmtpState>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(Mutex::new(SmtpState::default()));
        let mut server = mailin_embedded::Server::new(SmtpHandler {
            state: state.clone(),
            recipients: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("smtp-sink.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        // Blocking I/O on its own thread, for the life of the test binary.
        std::thread::spawn(move || {
            if let Err(error) = server.serve() {
                eprintln!("the SMTP sink stopped: {error}");
            }
        });
        Self { port, state }
    }

    /// The next messages' replies at the end of data, in order; then 250.
    pub fn script(&self, codes: &[u16]) {
        self.state
            .lock()
            .expect("smtp state")
            .script
            .extend(codes.iter().copied());
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.state.lock().expect("smtp state").mails.clone()
    }

    pub fn transactions(&self) -> usize {
        self.state.lock().expect("smtp state").transactions
    }

    /// Settings that send to this sink.
    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: Some("127.0.0.1".into()),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "NHS Highland pain service <pain.service@highland.example.org>".into(),
            message_id_domain: None,
            timeout_ms: 2000,
        }
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    base
}

/// Settings for a notification service that sends through `gateway` and
/// `receiver`, beside `intake`.
pub async fn settings_beside(
    backend: &Backend,
    intake: &crate::intake::TestApp,
    gateway: &NotifyGateway,
    receiver: &WebhookReceiver,
    dir: &std::path::Path,
) -> Settings {
    let board = BoardChannels {
        messages: MessageGateway::Notify,
        email: None,
        webhooks: WebhookGateway::Http,
        referrer_channel: ReferrerChannel::Webhook,
        gp_webhook_url: Some(receiver.url("gp")),
        receiving_services: [
            ("pain-association-scotland", receiver.url("partner")),
            ("pain_management_programme", receiver.url("programme")),
        ]
        .into_iter()
        .map(|(code, url)| (code.to_owned(), url))
        .collect(),
        notify_account: None,
        smtp_server: None,
    };
    Settings {
        http: HttpSettings::with_port(0),
        database: DatabaseSettings {
            url: backend.fresh_url(dir).await,
            max_connections: 5,
        },
        nats: intake.settings.nats.clone(),
        auth: intake.settings.auth.clone(),
        intake_timeout_ms: 3000,
        sender: SenderSettings {
            poll_ms: 50,
            batch: 32,
            max_attempts: 4,
            min_backoff_ms: 20,
            max_backoff_ms: 100,
            lease_seconds: 60,
        },
        sink: pathway_notification::settings::SinkSettings {
            dir: dir.join("outbox-messages"),
        },
        notify: gateway.account(CALLBACK_TOKEN),
        webhook: WebhookSettings {
            signing_secret: Some(WEBHOOK_SECRET.to_owned().into()),
            signing_key_file: dir.join("webhook.key"),
            timeout_ms: 500,
        },
        smtp: SmtpSettings::default(),
        notify_accounts: Default::default(),
        smtp_servers: Default::default(),
        boards: Default::default(),
        board_defaults: board,
        telemetry: Default::default(),
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub jetstream: jetstream::Context,
    pub db: sea_orm::DatabaseConnection,
    pub app: Notifications,
    pub settings: Settings,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Arc<tempfile::TempDir>,
}

impl TestApp {
    /// Notification beside a running intake (same NATS account, same key),
    /// sending through the test's gateway and receiver.
    pub async fn spawn(
        backend: &Backend,
        intake: &crate::intake::TestApp,
        gateway: &NotifyGateway,
        receiver: &WebhookReceiver,
        workers: Workers,
    ) -> Self {
        Self::spawn_with(backend, intake, gateway, receiver, workers, |_| {}).await
    }

    /// As [`TestApp::spawn`], with settings changed by `tweak`.
    pub async fn spawn_with(
        backend: &Backend,
        intake: &crate::intake::TestApp,
        gateway: &NotifyGateway,
        receiver: &WebhookReceiver,
        workers: Workers,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        pathway_common::telemetry::init_for_tests();
        let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        let mut settings = settings_beside(backend, intake, gateway, receiver, dir.path()).await;
        tweak(&mut settings);
        Self::start(settings, workers, dir).await
    }

    pub async fn start(settings: Settings, workers: Workers, dir: Arc<tempfile::TempDir>) -> Self {
        let application = Application::build_with(settings.clone(), workers)
            .await
            .expect("notification builds against real NATS and a real database");
        let base = format!("http://127.0.0.1:{}", application.port());
        let app = application.notifications().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        let nats = pathway_common::bus::connect(&settings.nats, "test")
            .await
            .expect("the test connects to NATS");
        let authenticator = Authenticator::from_settings(&settings.auth).expect("local key");
        Self {
            base,
            http: reqwest::Client::new(),
            jetstream: jetstream::new(nats),
            db: app.platform.db.clone(),
            app,
            settings,
            authenticator,
            shutdown,
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// Kill the service where it stands, as a crash would: in-flight sends
    /// are dropped mid-request. Then start it again on the same database and
    /// NATS account with `settings`.
    pub async fn crash_and_restart(mut self, settings: Settings) -> Self {
        if let Some(handle) = self.handle.take() {
            handle.abort();
            let _ = handle.await;
        }
        self.db.clone().close().await.ok();
        Self::start(settings, Workers::default(), self._dir.clone()).await
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        self.db.clone().close().await.ok();
    }

    pub fn token(&self, role: Role, boards: &[&str]) -> String {
        crate::signed_token(
            &self.authenticator,
            &format!("test-{role}"),
            role,
            boards,
            None,
        )
    }

    /// Publish `event` onto the stream as decision or vetting would.
    pub async fn send(&self, event: &Event) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.as_str());
        self.jetstream
            .publish_with_headers(
                event
                    .subject()
                    .expect("an event with a payload has a subject"),
                headers,
                event.encode_to_vec().into(),
            )
            .await
            .expect("publish")
            .await
            .expect("the stream acknowledges");
    }

    pub async fn deliveries(&self, referral_id: &str) -> Vec<delivery::Model> {
        delivery::Entity::find()
            .filter(delivery::Column::ReferralId.eq(referral_id))
            .order_by_asc(delivery::Column::CreatedAt)
            .order_by_asc(delivery::Column::Recipient)
            .all(&self.db)
            .await
            .expect("read deliveries")
    }

    /// Wait until `count` deliveries of `referral_id` exist and none is
    /// planned or sending.
    pub async fn wait_until_settled(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<delivery::Model> {
        let settled = eventually(Duration::from_secs(15), || async {
            let rows = self.deliveries(referral_id).await;
            (rows.len() >= count
                && rows
                    .iter()
                    .all(|r| r.status == "sent" || r.status == "failed"))
            .then_some(rows)
        })
        .await;
        settled.unwrap_or_else(|| panic!("expected {count} settled deliveries of {referral_id}"))
    }

    /// Time passes: the leases of `referral_id`'s deliveries still `sending`
    /// (their worker died) run out.
    pub async fn lapse_leases(&self, referral_id: &str) {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::LeaseUntil,
                sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
            )
            .filter(delivery::Column::ReferralId.eq(referral_id))
            .filter(delivery::Column::Status.eq("sending"))
            .exec(&self.db)
            .await
            .expect("let the leases lapse");
    }

    /// The board's notification settings as this service keeps them.
    pub async fn board_notification(
        &self,
        board: &str,
    ) -> Option<pathway_notification::db::board_notification::Model> {
        pathway_notification::db::board_notification::Entity::find_by_id(board.to_owned())
            .one(&self.db)
            .await
            .expect("read the board's notification settings")
    }

    /// What this service's consumer refused, with the reasons.
    pub async fn dead_letters(&self) -> Vec<pathway_common::inbox::dead_letter::Model> {
        pathway_common::inbox::dead_letter::Entity::find()
            .all(&self.db)
            .await
            .expect("read dead letters")
    }

    /// Wait until `count` deliveries of `referral_id` are planned.
    pub async fn wait_until_planned(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<delivery::Model> {
        eventually(Duration::from_secs(15), || async {
            let rows = self.deliveries(referral_id).await;
            (rows.len() >= count).then_some(rows)
        })
        .await
        .unwrap_or_else(|| panic!("expected {count} deliveries of {referral_id}"))
    }

    /// The notification events on the stream for `referral_id`.
    pub async fn notification_events(&self, referral_id: &str) -> Vec<Payload> {
        crate::stream_events(&self.jetstream)
            .await
            .into_iter()
            .filter(|e| e.event.referral_id == referral_id)
            .filter_map(|e| match e.event.payload {
                Some(payload @ (Payload::NotificationSent(_) | Payload::NotificationFailed(_))) => {
                    Some(payload)
                }
                _ => None,
            })
            .collect()
    }

    /// Wait until `count` notification events for `referral_id` are on the stream.
    pub async fn wait_for_notification_events(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<Payload> {
        eventually(Duration::from_secs(15), || async {
            let found = self.notification_events(referral_id).await;
            (found.len() >= count).then_some(found)
        })
        .await
        .unwrap_or_else(|| panic!("expected {count} notification events for {referral_id}"))
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("notification answers")
    }

    /// A status callback as the gateway sends it.
    pub async fn callback(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/callbacks/notify", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("notification answers")
    }

    pub async fn post(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("notification answers")
    }
}

/// A `decision.recorded` for `referral_id`, as decision publishes it.
pub fn decision_recorded(board: &str, referral_id: &str, outcome: proto::Outcome) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("a UUID")),
        "dr-vetting",
        chrono::Utc::now(),
        Payload::DecisionRecorded(proto::DecisionRecorded {
            decision_id: uuid::Uuid::now_v7().to_string(),
            outcome: Some(outcome),
            clinician: "dr-vetting".into(),
            decided_at: Some(proto::timestamp(chrono::Utc::now())),
            target_date: "2026-03-20".into(),
            supersedes_decision_id: String::new(),
            opt_in_deadline: None,
            rationale: "long-standing back pain, no red flags".into(),
            red_flag_override_reason: String::new(),
        }),
    )
}

/// A `vetting.info_requested` for `referral_id`.
pub fn info_requested(board: &str, referral_id: &str, question: &str) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("a UUID")),
        "dr-vetting",
        chrono::Utc::now(),
        Payload::VettingInfoRequested(proto::VettingInfoRequested {
            information_request_id: uuid::Uuid::now_v7().to_string(),
            clinician: "dr-vetting".into(),
            question: question.into(),
        }),
    )
}
