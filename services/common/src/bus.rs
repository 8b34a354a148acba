//! The NATS connection and the JetStream streams every service relies on.
//!
//! Each service connects as itself: its own nkey (or user and password, or
//! credentials file), over TLS when the settings ask for it (production
//! always does), with replies to its requests on an inbox prefix of its own
//! (`_INBOX_<service>`), so the servers' permissions
//! (`deploy/nats/accounts.conf`) can let it read its own replies and nobody
//! else's.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::{
    CreateStreamError, CreateStreamErrorKind, GetStreamErrorKind,
};
use async_nats::jetstream::{self, stream};
use backon::{ExponentialBuilder, Retryable};
use pathway_proto::stream as names;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::ExposeSecret;

use crate::settings::NatsSettings;

/// Connect to NATS as `service`, with its credentials and TLS when
/// configured.
pub async fn connect(settings: &NatsSettings, service: &str) -> anyhow::Result<async_nats::Client> {
    let (url, options) = connect_options(settings, service).await?;
    // One address or several: async-nats parses a string as one address.
    let servers: Vec<&str> = url.split(',').collect();
    options
        .connect(servers)
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))
}

/// The server URLs (without credentials) and the options [`connect`] uses,
/// for a caller that adds its own (a test watching the server's errors).
/// A file named by the settings that cannot be read stops here, naming the
/// setting, rather than in a reconnect loop later.
pub async fn connect_options(
    settings: &NatsSettings,
    service: &str,
) -> anyhow::Result<(String, async_nats::ConnectOptions)> {
    let name = format!("pathway-{service}");
    let mut options = async_nats::ConnectOptions::new()
        .name(name.clone())
        .custom_inbox_prefix(settings.inbox_prefix_for(service))
        .retry_on_initial_connect()
        .connection_timeout(std::time::Duration::from_secs(5))
        .event_callback(move |event| log_event(name.clone(), event));
    if let Some(path) = &settings.credentials_file {
        options = options.credentials_file(path).await.with_context(|| {
            format!(
                "PATHWAY_NATS__CREDENTIALS_FILE: cannot read the NATS credentials {}",
                path.display()
            )
        })?;
    }
    if let Some(path) = &settings.nkey_seed_file {
        options = options.nkey(read_nkey_seed(path)?);
    }
    let (url, credentials) = split_credentials(&settings.url);
    if let Some((user, password)) = credentials {
        options = options.user_and_password(user, password);
    }
    match (&settings.user, &settings.password) {
        (Some(user), Some(password)) => {
            options = options.user_and_password(user.clone(), password.expose_secret().to_owned());
        }
        (Some(_), None) => anyhow::bail!(
            "PATHWAY_NATS__PASSWORD: must be set with PATHWAY_NATS__USER (this service's NATS password)"
        ),
        (None, Some(_)) => anyhow::bail!(
            "PATHWAY_NATS__USER: must be set with PATHWAY_NATS__PASSWORD (this service's NATS user)"
        ),
        (None, None) => {}
    }
    if settings.tls_required() {
        options = options.require_tls(true);
    }
    if let Some(path) = &settings.tls_ca_file {
        check_certificates(path, "PATHWAY_NATS__TLS_CA_FILE")?;
        options = options.add_root_certificates(path.clone());
    }
    match (
        &settings.tls_client_cert_file,
        &settings.tls_client_key_file,
    ) {
        (Some(cert), Some(key)) => {
            check_certificates(cert, "PATHWAY_NATS__TLS_CLIENT_CERT_FILE")?;
            PrivateKeyDer::from_pem_file(key).map_err(|error| {
                anyhow::anyhow!(
                    "PATHWAY_NATS__TLS_CLIENT_KEY_FILE: no private key (PEM) in {}: {error}",
                    key.display()
                )
            })?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        (Some(_), None) => anyhow::bail!(
            "PATHWAY_NATS__TLS_CLIENT_KEY_FILE: must be set with PATHWAY_NATS__TLS_CLIENT_CERT_FILE"
        ),
        (None, Some(_)) => anyhow::bail!(
            "PATHWAY_NATS__TLS_CLIENT_CERT_FILE: must be set with PATHWAY_NATS__TLS_CLIENT_KEY_FILE"
        ),
        (None, None) => {}
    }
    Ok((url, options))
}

/// The user nkey seed in `path` (`SU…`, as `nsc` or `nk -gen user` write
/// it), checked here so that a wrong file stops the start.
fn read_nkey_seed(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "PATHWAY_NATS__NKEY_SEED_FILE: cannot read the nkey seed {}",
            path.display()
        )
    })?;
    let seed = text.trim().to_owned();
    let key = nkeys::KeyPair::from_seed(&seed).map_err(|_| {
        anyhow::anyhow!(
            "PATHWAY_NATS__NKEY_SEED_FILE: {} does not hold an nkey seed",
            path.display()
        )
    })?;
    anyhow::ensure!(
        key.key_pair_type() == nkeys::KeyPairType::User,
        "PATHWAY_NATS__NKEY_SEED_FILE: {} holds a seed of another kind than a user's (SU…)",
        path.display()
    );
    Ok(seed)
}

/// At least one certificate (PEM) in `path`, or an error naming `setting`.
fn check_certificates(path: &Path, setting: &str) -> anyhow::Result<()> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| anyhow::anyhow!("{setting}: cannot read {}: {error}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| anyhow::anyhow!("{setting}: {} is not PEM: {error}", path.display()))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "{setting}: no certificate (PEM) in {}",
        path.display()
    );
    Ok(())
}

/// What the connection went through, in the service's log: a permissions
/// violation (a subject this service may not use) is an error to look at.
async fn log_event(connection: String, event: async_nats::Event) {
    match event {
        async_nats::Event::ServerError(error) => {
            tracing::error!(%error, %connection, "NATS refused this service");
        }
        async_nats::Event::ClientError(error) => {
            tracing::warn!(%error, %connection, "NATS connection error");
        }
        async_nats::Event::Disconnected => {
            tracing::warn!(%connection, "disconnected from NATS: reconnecting");
        }
        async_nats::Event::Connected => tracing::info!(%connection, "connected to NATS"),
        other => tracing::debug!(event = %other, %connection, "NATS"),
    }
}

/// `nats://user:password@host:port` (or several, comma-separated) into the
/// URLs without them, and the first ones found.
fn split_credentials(urls: &str) -> (String, Option<(String, String)>) {
    let mut credentials = None;
    let stripped: Vec<String> = urls
        .split(',')
        .map(|url| {
            let url = url.trim();
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.to_owned();
            };
            match rest.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                    credentials.get_or_insert((user.to_owned(), password.to_owned()));
                    format!("{scheme}://{host}")
                }
                None => url.to_owned(),
            }
        })
        .collect();
    (stripped.join(","), credentials)
}

/// What a deployment sets of the pathway stream: its replicas, and how long
/// it keeps an event (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub replicas: usize,
    pub max_age: Option<Duration>,
}

impl StreamLimits {
    /// The limits `settings` ask for; an error names the setting.
    pub fn from_settings(settings: &NatsSettings) -> anyhow::Result<Self> {
        Ok(Self {
            replicas: settings.replicas,
            max_age: settings.stream_max_age()?,
        })
    }

    /// `replicas`, every event kept for ever (tests and tools).
    pub fn keep_forever(replicas: usize) -> Self {
        Self {
            replicas,
            max_age: None,
        }
    }
}

/// The service that creates the streams and applies their limits: the
/// only one allowed to where the servers hold Pathway's permissions.
pub const STREAM_OWNER: &str = "intake";

/// The pathway stream's configuration: file-backed, with a de-duplication
/// window longer than the relay's retry horizon, keeping each event for
/// `limits.max_age` (0, for JetStream, is for ever).
pub fn pathway_stream_config(limits: StreamLimits) -> stream::Config {
    stream::Config {
        name: names::NAME.to_owned(),
        subjects: vec![names::SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: names::DUPLICATE_WINDOW,
        max_age: limits.max_age.unwrap_or_default(),
        num_replicas: limits.replicas,
        allow_direct: true,
        ..Default::default()
    }
}

pub fn dead_letter_stream_config(replicas: usize) -> stream::Config {
    stream::Config {
        name: names::DEAD_LETTER_STREAM.to_owned(),
        subjects: vec![names::DEAD_LETTER_SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        duplicate_window: names::DUPLICATE_WINDOW,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// JetStream's `MAX_DELIVERIES` advisories for the pathway stream, kept so
/// that one raised while a service is down still becomes a dead letter.
pub fn advisory_stream_config(replicas: usize) -> stream::Config {
    stream::Config {
        name: names::ADVISORY_STREAM.to_owned(),
        subjects: vec![names::MAX_DELIVERIES_SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        max_age: names::ADVISORY_MAX_AGE,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// [`ensure_streams_with`], the pathway stream keeping every event for ever.
pub async fn ensure_streams(jetstream: &jetstream::Context, replicas: usize) -> anyhow::Result<()> {
    ensure_streams_with(jetstream, StreamLimits::keep_forever(replicas)).await
}

/// Create the streams when they do not exist yet, the pathway stream with
/// `limits`. Only intake may create them where the servers hold Pathway's
/// permissions (`deploy/nats/accounts.conf`); every other service finds
/// them, and stops with a message saying so when they are not there yet.
/// The dead-letter stream keeps its letters until an operator deals with
/// them, and the advisories stream its own short age, whatever `limits`.
pub async fn ensure_streams_with(
    jetstream: &jetstream::Context,
    limits: StreamLimits,
) -> anyhow::Result<()> {
    let replicas = limits.replicas;
    for config in [
        pathway_stream_config(limits),
        dead_letter_stream_config(replicas),
        advisory_stream_config(replicas),
    ] {
        let name = config.name.clone();
        match jetstream.get_stream(&name).await {
            Ok(_) => continue,
            Err(error)
                if matches!(
                    error.kind(),
                    GetStreamErrorKind::JetStream(cause)
                        if cause.error_code() == ErrorCode::STREAM_NOT_FOUND
                ) => {}
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!(
                    "cannot read the stream {name}: is JetStream enabled (nats-server -js), \
                     and may this service read it (deploy/nats/accounts.conf)?"
                )));
            }
        }
        // A cluster between leaders, or with a node down, may say a stream
        // it holds is not there and refuse to place it anew: that heals as
        // the cluster settles, so wait for it.
        (|| jetstream.get_or_create_stream(config.clone()))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(60),
            )
            .sleep(tokio::time::sleep)
            .when(cluster_may_heal)
            .notify(|error, delay| {
                tracing::warn!(%error, ?delay, stream = %name, "the cluster cannot place the stream yet: trying again");
            })
            .await
            .with_context(|| {
                format!(
                    "the stream {name} does not exist and this service cannot create it: intake \
                 creates the streams (the only service allowed to in production), so start it \
                 first; and is JetStream enabled (nats-server -js)?"
                )
            })?;
    }
    Ok(())
}

/// Give the pathway stream found at start the `max_age` of `limits`, so a
/// deployment whose stream was made before (or with another age) gets the
/// one its settings name; nothing when it has it already. Run by intake
/// ([`STREAM_OWNER`]) after [`ensure_streams_with`]. A shorter age removes
/// at once the events older than it: analytics' rebuild then starts from its
/// latest snapshot of facts (`docs/decisions/0029`).
pub async fn apply_stream_limits(
    jetstream: &jetstream::Context,
    limits: StreamLimits,
) -> anyhow::Result<()> {
    let mut stream = jetstream
        .get_stream(names::NAME)
        .await
        .with_context(|| format!("cannot read the stream {}", names::NAME))?;
    let info = stream
        .info()
        .await
        .with_context(|| format!("cannot read the stream {}", names::NAME))?;
    let wanted = limits.max_age.unwrap_or_default();
    if info.config.max_age == wanted {
        return Ok(());
    }
    let mut config = info.config.clone();
    config.max_age = wanted;
    jetstream.update_stream(&config).await.with_context(|| {
        format!(
            "cannot give the stream {} its max_age of {} days (PATHWAY_NATS__STREAM_MAX_AGE_DAYS)",
            names::NAME,
            wanted.as_secs() / 86_400
        )
    })?;
    tracing::info!(
        stream = names::NAME,
        from_days = info.config.max_age.as_secs() / 86_400,
        to_days = wanted.as_secs() / 86_400,
        "the stream's max_age changed (0 keeps every event)"
    );
    Ok(())
}

/// Whether a stream's creation failed for a reason the cluster heals by
/// itself: no leader yet, a peer offline, the meta layer not caught up.
fn cluster_may_heal(error: &CreateStreamError) -> bool {
    match error.kind() {
        CreateStreamErrorKind::JetStream(cause) => [
            ErrorCode::CLUSTER_NO_PEERS,
            ErrorCode::CLUSTER_NOT_AVAILABLE,
            ErrorCode::CLUSTER_INCOMPLETE,
            ErrorCode::CLUSTER_NOT_ACTIVE,
            ErrorCode::CLUSTER_NOT_LEADER,
        ]
        .contains(&cause.error_code()),
        _ => false,
    }
}

#[cfg(test)]
#[path = "tests/bus.rs"]
mod tests;
