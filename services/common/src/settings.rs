//! Typed settings, layered: built-in defaults that run locally with nothing
//! set, then an optional TOML file named by `PATHWAY_CONFIG`, then `PATHWAY_*`
//! environment variables shared by every service (e.g. `PATHWAY_NATS__URL`),
//! then the service's own (e.g. `PATHWAY_INTAKE__HTTP__PORT`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use ipnet::IpNet;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Load a service's settings. `service` is its name in upper-case-able form,
/// e.g. `"intake"`, which names its environment prefix `PATHWAY_INTAKE__`.
pub fn load<T: DeserializeOwned>(service: &str) -> Result<T, config::ConfigError> {
    let mut builder = config::Config::builder();
    if let Ok(path) = std::env::var("PATHWAY_CONFIG") {
        builder = builder.add_source(config::File::with_name(&path).required(true));
    }
    builder
        .add_source(
            config::Environment::with_prefix("PATHWAY")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        )
        .add_source(
            config::Environment::with_prefix(&format!("PATHWAY_{}", service.to_uppercase()))
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    pub host: IpAddr,
    /// 0 asks the operating system for a free port (tests do).
    pub port: u16,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// How long one request may take before it is stopped and answered 503
    /// (its transaction, if any, rolled back), in milliseconds.
    pub request_timeout_ms: u64,
    /// The reverse proxies in front of the service whose `X-Forwarded-For`
    /// names the client in the audit trail: networks or addresses, a list
    /// or a comma-separated string (`10.0.0.0/8,192.168.1.1`). Empty: the
    /// header is ignored and the peer's address is kept.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// Requests a second one token (or one address without a token) may
    /// send on average; 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// How many requests one token may send at once before the average
    /// applies.
    pub rate_limit_burst: u32,
}

/// A list of networks, from a list or from one comma-separated string (as
/// an environment variable gives it); a bare address is a network of one.
fn networks<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Networks {
        One(String),
        Many(Vec<String>),
    }
    let entries = match Networks::deserialize(deserializer)? {
        Networks::One(text) => text.split(',').map(str::to_owned).collect(),
        Networks::Many(list) => list,
    };
    entries
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{entry:?} is not an address or a network such as 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}

impl HttpSettings {
    pub fn with_port(port: u16) -> Self {
        Self {
            port,
            ..Self::default()
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            body_limit_bytes: 256 * 1024,
            request_timeout_ms: 30_000,
            trusted_proxies: Vec::new(),
            rate_limit_per_second: 200,
            rate_limit_burst: 400,
        }
    }
}

/// How a service reaches NATS: where, as whom, over what.
///
/// Production (`deploy/nats/`) gives each service an nkey of its own, allowed
/// only its own subjects, its own reply inbox ([`NatsSettings::inbox_prefix`])
/// and the JetStream calls it makes, over TLS with a client certificate.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NatsSettings {
    /// One server or several, comma-separated: `tls://host:4222` in
    /// production, `nats://127.0.0.1:14222` locally.
    pub url: String,
    /// A NATS credentials file (JWT and nkey seed) for this service, where
    /// the servers run in operator mode; none locally.
    pub credentials_file: Option<PathBuf>,
    /// A file holding this service's nkey seed (`SU…`), whose public key
    /// the servers list as this service's user (`deploy/nats/accounts.conf`):
    /// the servers hold no secret, and the seed never crosses the network.
    pub nkey_seed_file: Option<PathBuf>,
    /// Or this service's user and password, where the servers list users so.
    pub user: Option<String>,
    pub password: Option<SecretString>,
    /// Insist on TLS whatever the URL's scheme (`tls://` insists anyway).
    pub require_tls: bool,
    /// The CA (PEM) that signed the servers' certificates, when it is not
    /// one the system trusts.
    pub tls_ca_file: Option<PathBuf>,
    /// This service's client certificate and its key (PEM), for servers that
    /// verify clients (mutual TLS); both or neither.
    pub tls_client_cert_file: Option<PathBuf>,
    pub tls_client_key_file: Option<PathBuf>,
    /// Where replies to this service's requests arrive; unset, it is
    /// `_INBOX_<service>`, the prefix the service's NATS user may subscribe
    /// to, so that no service reads another's replies.
    pub inbox_prefix: Option<String>,
    /// Stream replicas: 1 locally, 3 in production.
    pub replicas: usize,
    /// How many days the pathway stream keeps an event (its `max_age`);
    /// 0 keeps every event for ever, which only a deployment outside
    /// production may choose. Intake applies it when it creates the stream
    /// and to the stream it finds at start. Analytics' daily snapshot of its
    /// facts is what a rebuild starts from, so the stream need only keep what
    /// came after the latest one (`docs/decisions/0029`).
    pub stream_max_age_days: u32,
}

impl NatsSettings {
    /// The reply inbox prefix of `service`'s connection.
    pub fn inbox_prefix_for(&self, service: &str) -> String {
        self.inbox_prefix
            .clone()
            .unwrap_or_else(|| format!("_INBOX_{service}"))
    }

    /// Whether every connection is encrypted: `require_tls`, or every
    /// server's URL is `tls://`.
    pub fn tls_required(&self) -> bool {
        self.require_tls
            || self
                .url
                .split(',')
                .all(|url| url.trim().starts_with("tls://"))
    }
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:14222".into(),
            credentials_file: None,
            nkey_seed_file: None,
            user: None,
            password: None,
            require_tls: false,
            tls_ca_file: None,
            tls_client_cert_file: None,
            tls_client_key_file: None,
            inbox_prefix: None,
            replicas: 1,
            stream_max_age_days: DEFAULT_STREAM_MAX_AGE_DAYS,
        }
    }
}

/// How long the pathway stream keeps an event unless told otherwise.
pub const DEFAULT_STREAM_MAX_AGE_DAYS: u32 = 30;

/// The longest `max_age` taken, about ten years: a longer one is a mistake
/// (keeping every event for ever is 0).
pub const LONGEST_STREAM_MAX_AGE_DAYS: u32 = 3650;

/// The shortest `max_age` production takes: analytics snapshots its facts
/// daily, and a snapshot that fails (analytics down over a long weekend, a
/// database full) must be noticed and taken again before the events after
/// the last good one age out: a day's interval and six days' margin.
pub const SHORTEST_PRODUCTION_STREAM_MAX_AGE_DAYS: u32 = 7;

impl NatsSettings {
    /// The pathway stream's `max_age`: `None` keeps every event for ever;
    /// an error names the setting and what it takes.
    pub fn stream_max_age(&self) -> anyhow::Result<Option<std::time::Duration>> {
        match self.stream_max_age_days {
            0 => Ok(None),
            days if days > LONGEST_STREAM_MAX_AGE_DAYS => anyhow::bail!(
                "PATHWAY_NATS__STREAM_MAX_AGE_DAYS: must be from 1 to {LONGEST_STREAM_MAX_AGE_DAYS} \
                 days, or 0 to keep every event for ever (is {days})"
            ),
            days => Ok(Some(std::time::Duration::from_secs(
                u64::from(days) * 24 * 60 * 60,
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://var/intake.db` (embedded default) or `postgres://...`.
    pub url: String,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    10
}

impl DatabaseSettings {
    pub fn sqlite_file(service: &str) -> Self {
        Self {
            url: format!("sqlite://var/{service}.db"),
            max_connections: default_max_connections(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// File holding the local HS256 signing key; created on first use.
    /// Used when no `jwks_url` is set (the embedded default).
    pub local_key_file: PathBuf,
    /// The identity provider's JWKS document (production).
    pub jwks_url: Option<String>,
    /// Expected `iss`; checked when set.
    pub issuer: Option<String>,
    /// Expected `aud`; checked when set.
    pub audience: Option<String>,
    /// A `service`-role token this service presents to others over NATS,
    /// given as is; production refuses it (use the client credentials below).
    pub service_token: Option<SecretString>,
    /// The identity provider's token endpoint, for the OAuth 2.0 client
    /// credentials grant through which this service gets, and renews, the
    /// token it presents to others.
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// The scope asked for, when the identity provider wants one.
    pub scope: Option<String>,
    /// Whether people may sign in to the pages by pasting a token (the
    /// embedded default). Off, the pages take the token only from the
    /// `Authorization` header the board's single sign-on proxy sends, and
    /// `/sign-in` says so; production requires it off.
    pub token_pasting: bool,
    /// A key file the pages' forms are signed with (created on first use).
    /// Several instances of a service behind one address must share it, or
    /// a form one of them showed is refused by the others; unset, each
    /// process draws its own key at start.
    pub csrf_key_file: Option<PathBuf>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            local_key_file: PathBuf::from("var/secrets/jwt-signing.key"),
            jwks_url: None,
            issuer: None,
            audience: None,
            service_token: None,
            token_url: None,
            client_id: None,
            client_secret: None,
            scope: None,
            token_pasting: true,
            csrf_key_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// `RUST_LOG`-style filter.
    pub log_filter: String,
    /// Log as JSON lines (for log shippers) instead of text.
    pub json_logs: bool,
    /// OTLP/HTTP endpoint, e.g. `http://127.0.0.1:4318`; spans are exported when set.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_filter: "info,sqlx=warn,sea_orm=warn,async_nats=warn".into(),
            json_logs: false,
            otlp_endpoint: None,
        }
    }
}

/// The settings every service has, whatever else its own settings hold.
pub trait ServiceSettings: DeserializeOwned + Send + Sync + 'static {
    fn http(&self) -> &HttpSettings;
    fn database(&self) -> &DatabaseSettings;
    fn nats(&self) -> &NatsSettings;
    fn auth(&self) -> &AuthSettings;
    fn telemetry(&self) -> &TelemetrySettings;
}

/// Implements [`ServiceSettings`] for a settings struct with the usual
/// `http`, `database`, `nats`, `auth` and `telemetry` fields.
#[macro_export]
macro_rules! service_settings {
    ($settings:ty) => {
        impl $crate::settings::ServiceSettings for $settings {
            fn http(&self) -> &$crate::settings::HttpSettings {
                &self.http
            }
            fn database(&self) -> &$crate::settings::DatabaseSettings {
                &self.database
            }
            fn nats(&self) -> &$crate::settings::NatsSettings {
                &self.nats
            }
            fn auth(&self) -> &$crate::settings::AuthSettings {
                &self.auth
            }
            fn telemetry(&self) -> &$crate::settings::TelemetrySettings {
                &self.telemetry
            }
        }
    };
}
