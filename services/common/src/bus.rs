//! The NATS connection and the JetStream streams every service relies on.

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use pathway_proto::stream as names;

use crate::settings::NatsSettings;

/// Connect to NATS as `service`, with its credentials when configured.
pub async fn connect(settings: &NatsSettings, service: &str) -> anyhow::Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("pathway-{service}"))
        .retry_on_initial_connect()
        .connection_timeout(std::time::Duration::from_secs(5));
    if let Some(path) = &settings.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .with_context(|| format!("cannot read the NATS credentials {}", path.display()))?;
    }
    let (url, credentials) = split_credentials(&settings.url);
    if let Some((user, password)) = credentials {
        options = options.user_and_password(user, password);
    }
    options
        .connect(url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))
}

/// `nats://user:password@host:port` into the URL without them, and them.
fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (
                format!("{scheme}://{host}"),
                Some((user.to_owned(), password.to_owned())),
            )
        }
        None => (url.to_owned(), None),
    }
}

/// The pathway stream's configuration: file-backed, with a de-duplication
/// window longer than the relay's retry horizon.
pub fn pathway_stream_config(replicas: usize) -> stream::Config {
    stream::Config {
        name: names::NAME.to_owned(),
        subjects: vec![names::SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: names::DUPLICATE_WINDOW,
        num_replicas: replicas,
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

/// Create the streams when they do not exist yet (every service may do it;
/// the first wins, the rest find them).
pub async fn ensure_streams(jetstream: &jetstream::Context, replicas: usize) -> anyhow::Result<()> {
    jetstream
        .get_or_create_stream(pathway_stream_config(replicas))
        .await
        .context("cannot create the pathway stream: is JetStream enabled (nats-server -js)?")?;
    jetstream
        .get_or_create_stream(dead_letter_stream_config(replicas))
        .await
        .context("cannot create the dead-letter stream")?;
    jetstream
        .get_or_create_stream(advisory_stream_config(replicas))
        .await
        .context("cannot create the stream of delivery advisories")?;
    Ok(())
}
