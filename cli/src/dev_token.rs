//! Development tokens: JWTs signed with the local key that the platform's
//! embedded default creates (`var/secrets/jwt-signing.key`), for
//! `pathway token` and for every command run without `--token`. Against a
//! board's deployment there is no local key: a token comes from its
//! identity provider.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::AuthSettings;

/// Why no development token could be signed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no local signing key at {}: start the platform once with `make run` (it creates the key), \
         or pass --token with a token from your identity provider",
        path.display()
    )]
    NoKey { path: PathBuf },
    #[error("cannot sign a development token with the key at {}", path.display())]
    Signing {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Who a development token speaks for, and for how long.
pub struct Grant<'a> {
    pub role: Role,
    pub boards: Vec<String>,
    pub subject: &'a str,
    /// The person's name as pages show it.
    pub name: Option<String>,
    pub ttl: Duration,
}

/// Sign `grant` with the local key in `key_file`.
pub fn sign(key_file: &Path, grant: Grant<'_>) -> Result<String, TokenError> {
    if !key_file.exists() {
        return Err(TokenError::NoKey {
            path: key_file.to_owned(),
        });
    }
    let signing = |source: anyhow::Error| TokenError::Signing {
        path: key_file.to_owned(),
        source: source.into(),
    };
    let authenticator = Authenticator::from_settings(&AuthSettings {
        local_key_file: key_file.to_owned(),
        ..AuthSettings::default()
    })
    .map_err(signing)?;
    let mut claims = Claims::new(grant.subject, grant.role, grant.boards, grant.ttl);
    claims.name = grant.name;
    authenticator.issue(&claims).map_err(signing)
}
