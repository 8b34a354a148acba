//! The production profile: `PATHWAY_PROFILE=production` is the one switch
//! that makes a service refuse to start on a missing or unsafe setting,
//! naming each one and saying what it must be. Unset (or `development`) is
//! the embedded default `make run` uses: local signing keys, SQLite, NATS
//! on loopback without credentials.
//!
//! What every service must have in production is checked here
//! ([`common_problems`]); what is a service's own (vetting's cookies,
//! notification's channels) by its [`crate::startup::Service::production_problems`].

use std::fmt;

use secrecy::ExposeSecret;

use crate::settings::{AuthSettings, NatsSettings, ServiceSettings};

/// Which rules a service starts under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The embedded default: runs with nothing set.
    Development,
    /// A board's deployment: refuses to start on a missing or unsafe setting.
    Production,
}

impl Profile {
    /// From `PATHWAY_PROFILE`; a value that is neither name stops the start.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::parse(std::env::var("PATHWAY_PROFILE").ok().as_deref())
    }

    pub fn parse(value: Option<&str>) -> anyhow::Result<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("development") => Ok(Self::Development),
            Some("production") => Ok(Self::Production),
            Some(other) => anyhow::bail!(
                "PATHWAY_PROFILE is {other:?}: set it to \"production\" for a board's deployment, \
                 or leave it unset for the embedded default"
            ),
        }
    }
}

/// A setting production refuses: its variable, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub setting: String,
    pub must: String,
}

impl Problem {
    pub fn new(setting: impl Into<String>, must: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            must: must.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.must)
    }
}

/// Why `service` cannot start in production: every problem, one per line.
pub fn refusal(service: &str, problems: &[Problem]) -> String {
    let mut text = format!(
        "{service} will not start with PATHWAY_PROFILE=production: {} setting{} missing or unsafe",
        problems.len(),
        if problems.len() == 1 { " is" } else { "s are" }
    );
    for problem in problems {
        text.push_str(&format!("\n  {problem}"));
    }
    text
}

/// What every service needs in production; `service` names its own
/// variables (`PATHWAY_INTAKE__…`).
pub fn common_problems(service: &str, settings: &impl ServiceSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    let auth = settings.auth();
    match auth.jwks_url.as_deref() {
        None => problems.push(Problem::new(
            "PATHWAY_AUTH__JWKS_URL",
            "must name the board's identity provider's keys (https): production never trusts \
             a local signing key",
        )),
        Some(url) if !url.starts_with("https://") => problems.push(Problem::new(
            "PATHWAY_AUTH__JWKS_URL",
            format!("must be https, not {url}"),
        )),
        Some(_) => {}
    }
    if auth.issuer.as_deref().is_none_or(str::is_empty) {
        problems.push(Problem::new(
            "PATHWAY_AUTH__ISSUER",
            "must be the identity provider's issuer (tokens' `iss`)",
        ));
    }
    if auth.audience.as_deref().is_none_or(str::is_empty) {
        problems.push(Problem::new(
            "PATHWAY_AUTH__AUDIENCE",
            "must be the audience Pathway's tokens are issued for (tokens' `aud`)",
        ));
    }
    if auth.token_pasting {
        problems.push(Problem::new(
            "PATHWAY_AUTH__TOKEN_PASTING",
            "must be false: people sign in through the board's single sign-on proxy, never \
             by pasting a token",
        ));
    }
    let nats = settings.nats();
    problems.extend(nats_problems(nats));
    if nats.replicas < 3 {
        problems.push(Problem::new(
            "PATHWAY_NATS__REPLICAS",
            format!("must be at least 3 (is {})", nats.replicas),
        ));
    }
    problems.extend(stream_max_age_problems(nats));
    if settings.database().url.starts_with("sqlite:") {
        problems.push(Problem::new(
            format!("PATHWAY_{}__DATABASE__URL", service.to_uppercase()),
            "must be PostgreSQL (postgres://…): SQLite is the embedded default only",
        ));
    }
    if settings.http().rate_limit_per_second == 0 {
        problems.push(Problem::new(
            "PATHWAY_HTTP__RATE_LIMIT_PER_SECOND",
            "must not be 0: production limits requests per token",
        ));
    }
    problems
}

/// What production asks of the stream's `max_age`: set (patient events are
/// not kept for ever), within bounds, and no shorter than analytics'
/// snapshot interval with its margin
/// ([`crate::settings::SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS`]).
pub fn stream_max_age_problems(nats: &NatsSettings) -> Vec<Problem> {
    use crate::settings::{LONGEST_STREAM_MAX_AGE_DAYS, SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS};
    let days = nats.stream_max_age_days;
    if (SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS..=LONGEST_STREAM_MAX_AGE_DAYS).contains(&days) {
        return Vec::new();
    }
    let why = if days == 0 {
        "must not be 0 (every event kept for ever): production keeps the stream's events for a \
         limited time"
            .to_owned()
    } else if days < SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS {
        format!(
            "must be at least {SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS} days (is {days}): analytics \
             snapshots its facts daily, and a rebuild needs every event after the latest snapshot, \
             with a margin for a snapshot that failed"
        )
    } else {
        format!("must be at most {LONGEST_STREAM_MAX_AGE_DAYS} days (is {days})")
    };
    vec![Problem::new("PATHWAY_NATS__STREAM_MAX_AGE_DAYS", why)]
}

/// The shortest NATS password production takes.
pub const MIN_NATS_PASSWORD_LEN: usize = 32;

/// What production asks of the NATS connection: TLS to every server, and
/// this service's own credentials (never anonymous, never in the URL),
/// so the servers can hold it to its own subjects (`deploy/nats/`).
pub fn nats_problems(nats: &NatsSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    let servers: Vec<&str> = nats.url.split(',').map(str::trim).collect();
    let shown = servers
        .iter()
        .map(|url| match url.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest))
            }
            None => (*url).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",");
    if !nats.tls_required() {
        problems.push(Problem::new(
            "PATHWAY_NATS__URL",
            format!(
                "must be tls://… (or set PATHWAY_NATS__REQUIRE_TLS=true): referrals must not \
                 cross the network in clear ({shown})"
            ),
        ));
    }
    if servers.iter().any(|url| {
        url.split_once("://")
            .is_some_and(|(_, rest)| rest.contains('@'))
    }) {
        problems.push(Problem::new(
            "PATHWAY_NATS__URL",
            format!(
                "must not carry a user or password ({shown}): set PATHWAY_NATS__USER and \
                 PATHWAY_NATS__PASSWORD, or PATHWAY_NATS__CREDENTIALS_FILE"
            ),
        ));
    }
    let user = nats.user.as_deref().filter(|user| !user.trim().is_empty());
    if nats.credentials_file.is_none() && nats.nkey_seed_file.is_none() && user.is_none() {
        problems.push(Problem::new(
            "PATHWAY_NATS__CREDENTIALS_FILE",
            "must name this service's own NATS credentials (or set PATHWAY_NATS__NKEY_SEED_FILE, \
             or PATHWAY_NATS__USER and PATHWAY_NATS__PASSWORD): production never connects \
             anonymously",
        ));
    }
    if user.is_some() {
        match &nats.password {
            None => problems.push(Problem::new(
                "PATHWAY_NATS__PASSWORD",
                "must be set with PATHWAY_NATS__USER: this service's NATS password",
            )),
            Some(password) if password.expose_secret().len() < MIN_NATS_PASSWORD_LEN => {
                problems.push(Problem::new(
                    "PATHWAY_NATS__PASSWORD",
                    format!(
                        "must be at least {MIN_NATS_PASSWORD_LEN} random characters (is {})",
                        password.expose_secret().len()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    match (&nats.tls_client_cert_file, &nats.tls_client_key_file) {
        (Some(_), None) => problems.push(Problem::new(
            "PATHWAY_NATS__TLS_CLIENT_KEY_FILE",
            "must be set with PATHWAY_NATS__TLS_CLIENT_CERT_FILE",
        )),
        (None, Some(_)) => problems.push(Problem::new(
            "PATHWAY_NATS__TLS_CLIENT_CERT_FILE",
            "must be set with PATHWAY_NATS__TLS_CLIENT_KEY_FILE",
        )),
        _ => {}
    }
    if let Some(prefix) = &nats.inbox_prefix
        && (prefix == "_INBOX" || prefix.starts_with("_INBOX."))
    {
        problems.push(Problem::new(
            "PATHWAY_NATS__INBOX_PREFIX",
            format!(
                "must be this service's own (unset, it is _INBOX_<service>), not the shared \
                 {prefix:?} every client may read"
            ),
        ));
    }
    problems
}

/// What a service that asks another (intake's look-up) needs in
/// production: client credentials from the identity provider, renewed by
/// themselves, never a token given as is.
pub fn service_token_problems(auth: &AuthSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    match auth.token_url.as_deref() {
        None => problems.push(Problem::new(
            "PATHWAY_AUTH__TOKEN_URL",
            "must name the identity provider's token endpoint (https): the service gets and \
             renews its own token with client credentials",
        )),
        Some(url) if !url.starts_with("https://") => problems.push(Problem::new(
            "PATHWAY_AUTH__TOKEN_URL",
            format!("must be https, not {url}"),
        )),
        Some(_) => {}
    }
    if auth.client_id.as_deref().is_none_or(str::is_empty) {
        problems.push(Problem::new(
            "PATHWAY_AUTH__CLIENT_ID",
            "must be this service's client id at the identity provider",
        ));
    }
    if auth.client_secret.is_none() {
        problems.push(Problem::new(
            "PATHWAY_AUTH__CLIENT_SECRET",
            "must be this service's client secret at the identity provider",
        ));
    }
    if auth.service_token.is_some() {
        problems.push(Problem::new(
            "PATHWAY_AUTH__SERVICE_TOKEN",
            "must not be set: a token given as is never renews itself",
        ));
    }
    problems
}

#[cfg(test)]
#[path = "tests/profile.rs"]
mod tests;
