//! Bearer tokens (JWT): who the caller is, their role, and the boards they
//! may act for.
//!
//! The embedded default signs and checks tokens with a local HS256 key kept in
//! a file (the CLI issues development tokens with it). Production validates
//! tokens from the board's identity provider against its JWKS document, with
//! asymmetric algorithms only.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::settings::AuthSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Referrer,
    Clinician,
    BoardAdmin,
    Evaluator,
    Service,
    /// A board's hospital system (PAS) reporting appointments: it may post
    /// them for its boards and do nothing else, never read referrals.
    HospitalSystem,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Referrer,
        Role::Clinician,
        Role::BoardAdmin,
        Role::Evaluator,
        Role::Service,
        Role::HospitalSystem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Referrer => "referrer",
            Role::Clinician => "clinician",
            Role::BoardAdmin => "board_admin",
            Role::Evaluator => "evaluator",
            Role::Service => "service",
            Role::HospitalSystem => "hospital_system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}: expected one of referrer, clinician, board_admin, evaluator, service, hospital_system"
                )
            })
    }
}

/// What a Pathway token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Stable identifier of the person or system.
    pub sub: String,
    /// Display name, e.g. "Dr Ann Smith".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: Role,
    /// Board codes this token may act for; `*` means every board (a national
    /// service such as the residential programme, or a service account).
    #[serde(default)]
    pub boards: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    /// Claims valid from now for `ttl`.
    pub fn new(sub: &str, role: Role, boards: Vec<String>, ttl: Duration) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            sub: sub.to_owned(),
            name: None,
            role,
            boards,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iat: now,
            iss: None,
            aud: None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub name: Option<String>,
    pub role: Role,
    pub boards: BTreeSet<String>,
    /// Client address, for the audit trail.
    pub source: String,
}

impl Caller {
    pub fn may_act_for(&self, board: &str) -> bool {
        self.boards.contains("*") || self.boards.contains(board)
    }

    /// Forbidden unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), AuthError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AuthError::Forbidden(format!(
                "this needs the role {}; the token has the role {}",
                wanted.join(" or "),
                self.role
            )))
        }
    }

    /// Forbidden unless the caller may act for `board`.
    pub fn require_board(&self, board: &str) -> Result<(), AuthError> {
        if self.may_act_for(board) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "the token may not act for the board {board:?}"
            )))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("the token has expired: ask for a new one")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the identity provider's keys cannot be fetched: {0}")]
    KeysUnavailable(String),
    /// A valid token that may not do this (its role or its boards).
    #[error("{0}")]
    Forbidden(String),
}

enum Keys {
    Local {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
    Jwks {
        url: String,
        client: reqwest::Client,
        cache: RwLock<Option<(Instant, JwkSet)>>,
    },
}

/// Checks tokens (and, with the local key, issues them).
pub struct Authenticator {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
    token_pasting: bool,
}

impl Authenticator {
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let keys = match &settings.jwks_url {
            Some(url) => Keys::Jwks {
                url: url.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .context("cannot build the JWKS client")?,
                cache: RwLock::new(None),
            },
            None => {
                let key = load_or_create_key(&settings.local_key_file)?;
                Keys::Local {
                    encoding: EncodingKey::from_secret(&key),
                    decoding: DecodingKey::from_secret(&key),
                }
            }
        };
        Ok(Self {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            token_pasting: settings.token_pasting,
        })
    }

    /// Sign `claims` with the local key (development tokens only).
    pub fn issue(&self, claims: &Claims) -> anyhow::Result<String> {
        match &self.keys {
            Keys::Local { encoding, .. } => Ok(jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                claims,
                encoding,
            )?),
            Keys::Jwks { .. } => {
                anyhow::bail!(
                    "tokens come from the identity provider when a JWKS URL is configured"
                )
            }
        }
    }

    /// Check a token and return its claims.
    /// Whether the pages take a pasted token ([`AuthSettings::token_pasting`]).
    pub fn token_pasting(&self) -> bool {
        self.token_pasting
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let (key, algorithm) = match &self.keys {
            Keys::Local { decoding, .. } => {
                if header.alg != Algorithm::HS256 {
                    return Err(AuthError::Invalid(format!(
                        "algorithm {:?} is not accepted here",
                        header.alg
                    )));
                }
                (decoding.clone(), Algorithm::HS256)
            }
            Keys::Jwks { .. } => {
                if matches!(
                    header.alg,
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
                ) {
                    return Err(AuthError::Invalid(
                        "symmetric algorithms are not accepted from an identity provider".into(),
                    ));
                }
                (self.jwks_key(header.kid.as_deref()).await?, header.alg)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        // A token not valid yet is refused like one no longer valid.
        validation.validate_nbf = true;
        match &self.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })
    }

    async fn jwks_key(&self, kid: Option<&str>) -> Result<DecodingKey, AuthError> {
        let Keys::Jwks { url, client, cache } = &self.keys else {
            return Err(AuthError::KeysUnavailable("no JWKS configured".into()));
        };
        let find = |set: &JwkSet| -> Option<DecodingKey> {
            let jwk = match kid {
                Some(kid) => set.find(kid),
                None => set.keys.first(),
            }?;
            DecodingKey::from_jwk(jwk).ok()
        };
        let unlisted =
            || AuthError::Invalid("signed with a key the identity provider does not list".into());
        if let Some((fetched, set)) = cache.read().await.as_ref()
            && fetched.elapsed() < JWKS_FRESH_FOR
        {
            if let Some(key) = find(set) {
                return Ok(key);
            }
            // An unknown kid fetches the keys again (the provider may have
            // rotated them), but not more often than this: made-up kids
            // must not turn every request into a call to the provider.
            if fetched.elapsed() < JWKS_REFETCH_AFTER {
                return Err(unlisted());
            }
        }
        let mut cache = cache.write().await;
        // Another request may have fetched them while this one waited.
        if let Some((fetched, set)) = cache.as_ref()
            && fetched.elapsed() < JWKS_REFETCH_AFTER
        {
            return find(set).ok_or_else(unlisted);
        }
        let set: JwkSet = client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        let key = find(&set);
        *cache = Some((Instant::now(), set));
        key.ok_or_else(unlisted)
    }
}

pub use crate::keys::load_or_create_key;

/// How long the identity provider's keys are used without asking again.
const JWKS_FRESH_FOR: Duration = Duration::from_secs(300);
/// The least time between two fetches of the keys for a kid they lack.
const JWKS_REFETCH_AFTER: Duration = Duration::from_secs(30);

/// Read the bearer token out of an `Authorization` header value.
pub fn bearer(value: Option<&str>) -> Result<&str, AuthError> {
    let value = value.ok_or(AuthError::Missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token.trim())
}

#[cfg(test)]
#[path = "tests/auth.rs"]
mod tests;
