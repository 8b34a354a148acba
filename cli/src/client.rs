//! The HTTP client to the services: where each one answers, which token to
//! send (the one given with `--token`, or a development token signed for the
//! call), sending, and a refusal turned into an error that says which
//! service refused, with what status, and every field it named.
//!
//! Commands build a [`Call`] with [`Client::get`], [`Client::post`] or
//! [`Client::put`], send it, and get a [`Reply`] whose status they check with
//! [`Reply::require`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use pathway_common::auth::Role;
use serde_json::Value;

use crate::dev_token::{self, Grant, TokenError};

/// How long a call may take, connecting and answering.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a development token signed for a call lasts.
const CALL_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A service the CLI talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Intake,
    Vetting,
    Decision,
    Notification,
    Analytics,
}

impl fmt::Display for Service {
    /// The service as messages name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Intake => "intake",
            Service::Vetting => "vetting",
            Service::Decision => "the decision service",
            Service::Notification => "the notification service",
            Service::Analytics => "analytics",
        })
    }
}

/// Where each service answers (`--intake`, `--vetting`, ...).
#[derive(Debug, Clone)]
pub struct Bases {
    pub intake: String,
    pub vetting: String,
    pub decision: String,
    pub notification: String,
    pub analytics: String,
}

/// What went wrong talking to a service.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client")]
    Setup(#[source] reqwest::Error),
    #[error("{base} is not a URL")]
    NotAUrl { base: String },
    #[error("cannot reach {service} at {base}: is the platform running (`make run`)?")]
    Unreachable {
        service: Service,
        base: String,
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with a status the command did not ask for.
    #[error("{}", refusal(*service, *status, body))]
    Refused {
        service: Service,
        status: u16,
        body: Value,
    },
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// `service`'s refusal, with every field it names.
fn refusal(service: Service, status: u16, body: &Value) -> String {
    let mut message = format!("{service} answered {status}");
    if let Some(text) = body["message"].as_str().or(body.as_str()) {
        message.push_str(&format!(": {text}"));
    }
    if let Some(rows) = body["rejected_rows"].as_u64() {
        message.push_str(&format!("\n{rows} rows rejected, nothing loaded:"));
    }
    for field in body["fields"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  - {}: {}",
            field["field"].as_str().unwrap_or("?"),
            field["reason"].as_str().unwrap_or("?")
        ));
    }
    if let Some(open) = body["open_referral_id"].as_str() {
        message.push_str(&format!("\n  open referral: {open}"));
    }
    message
}

/// The services' HTTP client, with the token to send.
pub struct Client {
    http: reqwest::Client,
    bases: Bases,
    token: Option<String>,
    key_file: PathBuf,
}

impl Client {
    /// A client for the services at `bases` that sends `token`, or signs
    /// development tokens with the key in `key_file` when there is none.
    pub fn new(
        bases: Bases,
        token: Option<String>,
        key_file: PathBuf,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(ClientError::Setup)?;
        Ok(Self {
            http,
            bases,
            token,
            key_file,
        })
    }

    /// Where `service` answers, without a trailing `/`.
    pub fn base(&self, service: Service) -> &str {
        let base = match service {
            Service::Intake => &self.bases.intake,
            Service::Vetting => &self.bases.vetting,
            Service::Decision => &self.bases.decision,
            Service::Notification => &self.bases.notification,
            Service::Analytics => &self.bases.analytics,
        };
        base.trim_end_matches('/')
    }

    /// The token to send for `role` on `board`: `--token` when given, else a
    /// development token for `subject`.
    pub fn token_for(&self, role: Role, board: &str, subject: &str) -> Result<String, TokenError> {
        self.token_named(role, board, subject, None)
    }

    /// As [`Client::token_for`], with the person's name pages show.
    pub fn token_named(
        &self,
        role: Role,
        board: &str,
        subject: &str,
        name: Option<String>,
    ) -> Result<String, TokenError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        dev_token::sign(
            &self.key_file,
            Grant {
                role,
                boards: vec![board.to_owned()],
                subject,
                name,
                ttl: CALL_TOKEN_TTL,
            },
        )
    }

    pub fn get(&self, service: Service, path: &str) -> Result<Call<'_>, ClientError> {
        self.call(reqwest::Method::GET, service, path)
    }

    pub fn post(&self, service: Service, path: &str) -> Result<Call<'_>, ClientError> {
        self.call(reqwest::Method::POST, service, path)
    }

    pub fn put(&self, service: Service, path: &str) -> Result<Call<'_>, ClientError> {
        self.call(reqwest::Method::PUT, service, path)
    }

    fn call(
        &self,
        method: reqwest::Method,
        service: Service,
        path: &str,
    ) -> Result<Call<'_>, ClientError> {
        let base = self.base(service);
        let url =
            reqwest::Url::parse(&format!("{base}{path}")).map_err(|_| ClientError::NotAUrl {
                base: base.to_owned(),
            })?;
        Ok(Call {
            http: &self.http,
            service,
            base,
            method,
            url,
            token: None,
            headers: Vec::new(),
            body: None,
        })
    }
}

/// One request to a service, ready to send.
pub struct Call<'a> {
    http: &'a reqwest::Client,
    service: Service,
    base: &'a str,
    method: reqwest::Method,
    url: reqwest::Url,
    token: Option<String>,
    headers: Vec<(String, String)>,
    /// The content type and the body.
    body: Option<(String, reqwest::Body)>,
}

impl Call<'_> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Query parameters, URL-encoded.
    pub fn query(mut self, params: &[(&str, String)]) -> Self {
        if !params.is_empty() {
            self.url.query_pairs_mut().extend_pairs(params);
        }
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.body("application/json", body.to_string())
    }

    /// A body sent as it is, with its content type.
    pub fn body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    /// Send the request and read the whole answer, whatever its status.
    pub async fn send(self) -> Result<Reply, ClientError> {
        let mut request = self.http.request(self.method, self.url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some((content_type, body)) = self.body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                service: self.service,
                base: self.base.to_owned(),
                source,
            })?;
        let status = response.status().as_u16();
        // A body cut short reads as empty: the status still says what happened.
        let text = response.text().await.unwrap_or_default();
        Ok(Reply {
            service: self.service,
            status,
            text,
        })
    }
}

/// A service's answer.
#[derive(Debug)]
pub struct Reply {
    pub service: Service,
    pub status: u16,
    pub text: String,
}

impl Reply {
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| Value::String(self.text.clone()))
    }

    /// The body as JSON when the status is `expected`; the service's refusal
    /// otherwise.
    pub fn require(self, expected: u16) -> Result<Value, ClientError> {
        if self.status == expected {
            Ok(self.json())
        } else {
            Err(self.refused())
        }
    }

    /// The body as JSON when the status is any success (2xx); the service's
    /// refusal otherwise.
    pub fn require_success(self) -> Result<Value, ClientError> {
        if (200..300).contains(&self.status) {
            Ok(self.json())
        } else {
            Err(self.refused())
        }
    }

    /// This answer as a refusal.
    pub fn refused(self) -> ClientError {
        ClientError::Refused {
            service: self.service,
            body: self.json(),
            status: self.status,
        }
    }
}
