//! The token a service presents to another (intake's identifiable look-up),
//! refreshed by itself: never a static, long-lived JWT.
//!
//! - With the board's identity provider, the OAuth 2.0 client credentials
//!   grant (RFC 6749 §4.4): `auth.token_url`, `auth.client_id` and
//!   `auth.client_secret`. The token is kept until four fifths of its
//!   lifetime have passed, then asked for again; concurrent callers share
//!   one request.
//! - On the embedded default, a five-minute token signed with the local key
//!   for each request.
//! - `auth.service_token`, a token given as is, remains for a deployment
//!   that renews it by other means; production refuses it.
//!
//! The grant is one form POST and a JSON answer, made with the reqwest
//! client every service already has (the `oauth2` crate's adapter would
//! bring a second HTTP stack).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::auth::{Authenticator, Claims, Role};
use crate::settings::AuthSettings;

/// The longest answer from the token endpoint read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Where a service's token comes from.
#[derive(Clone)]
pub enum ServiceToken {
    /// Asked for from the identity provider, and renewed.
    ClientCredentials(Arc<ClientCredentials>),
    /// Given as is (`auth.service_token`).
    Fixed(SecretString),
    /// Signed with the local key for each request (the embedded default).
    Local {
        auth: Arc<Authenticator>,
        subject: &'static str,
    },
}

impl ServiceToken {
    /// As `settings` say, for the service `subject`.
    pub fn from_settings(
        settings: &AuthSettings,
        auth: Arc<Authenticator>,
        subject: &'static str,
    ) -> anyhow::Result<Self> {
        if let Some(url) = &settings.token_url {
            let client_id = settings
                .client_id
                .clone()
                .context("auth.token_url is set but auth.client_id is not")?;
            let client_secret = settings
                .client_secret
                .clone()
                .context("auth.token_url is set but auth.client_secret is not")?;
            return Ok(Self::ClientCredentials(Arc::new(ClientCredentials::new(
                url.clone(),
                client_id,
                client_secret,
                settings.scope.clone(),
            )?)));
        }
        Ok(match &settings.service_token {
            Some(token) => Self::Fixed(token.clone()),
            None => Self::Local { auth, subject },
        })
    }

    /// A token to present now.
    pub async fn get(&self) -> anyhow::Result<String> {
        match self {
            Self::ClientCredentials(grant) => grant.token().await,
            Self::Fixed(token) => Ok(token.expose_secret().to_owned()),
            Self::Local { auth, subject } => {
                let claims = Claims::new(
                    subject,
                    Role::Service,
                    vec!["*".into()],
                    Duration::from_secs(300),
                );
                auth.issue(&claims).context(
                    "no service token: set auth.token_url, auth.client_id and auth.client_secret \
                     when tokens come from an identity provider",
                )
            }
        }
    }
}

/// The OAuth 2.0 client credentials grant, with the token it last gave.
pub struct ClientCredentials {
    url: String,
    client_id: String,
    client_secret: SecretString,
    scope: Option<String>,
    http: reqwest::Client,
    /// The token and when to ask for another.
    current: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    /// Seconds; an endpoint that leaves it out gets a token asked for again
    /// after a minute.
    expires_in: Option<u64>,
}

impl ClientCredentials {
    pub fn new(
        url: String,
        client_id: String,
        client_secret: SecretString,
        scope: Option<String>,
    ) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the token endpoint's client")?;
        Ok(Self {
            url,
            client_id,
            client_secret,
            scope,
            http,
            current: Mutex::new(None),
        })
    }

    /// The current token, asked for again once four fifths of its life
    /// have passed.
    pub async fn token(&self) -> anyhow::Result<String> {
        let mut current = self.current.lock().await;
        if let Some((token, renew_at)) = current.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let granted = self.ask().await?;
        let life = Duration::from_secs(granted.expires_in.unwrap_or(60));
        let renew_at = Instant::now() + life.mul_f64(0.8);
        *current = Some((granted.access_token.clone(), renew_at));
        Ok(granted.access_token)
    }

    async fn ask(&self) -> anyhow::Result<Granted> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.as_str()));
        }
        let body = serde_urlencoded::to_string(&form).context("cannot encode the grant")?;
        let mut response = self
            .http
            .post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .with_context(|| format!("the token endpoint {} did not answer", self.url))?;
        let status = response.status();
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("cannot read the answer of {}", self.url))?
        {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_ANSWER_BYTES {
                anyhow::bail!("the token endpoint {} answered more than 64 KiB", self.url);
            }
        }
        if !status.is_success() {
            anyhow::bail!(
                "the token endpoint {} refused this service's client credentials ({status}): {}",
                self.url,
                String::from_utf8_lossy(&answer[..answer.len().min(512)])
            );
        }
        serde_json::from_slice(&answer)
            .with_context(|| format!("the token endpoint {} gave no access_token", self.url))
    }
}
