//! One service running for a test, written once for all five: [`Running`]
//! builds the real `Application` (the one `main` runs) on port 0, serves it
//! on a task of its own until [`Running::stop`], and keeps what a test needs
//! beside it: the base URL, an HTTP client, a NATS client on the service's
//! account, its database, its settings, the service handle, and the local
//! signing key to issue tokens with.
//!
//! [`Common`] is what every service's settings hold in a test: port 0, a
//! fresh database of the backend's, a NATS account of its own (or another
//! service's), and a local signing key in the test's temporary folder (or
//! another service's).
//!
//! Each service's `TestApp` wraps a `Running` and dereferences to it
//! ([`running_app!`](crate::running_app)), so `app.base`, `app.db`,
//! `app.token(..)` or `app.stop()` read the same for every service.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use pathway_common::auth::{Authenticator, Role};
use pathway_common::inbox::dead_letter;
use pathway_common::settings::{AuthSettings, DatabaseSettings, HttpSettings, NatsSettings};
use pathway_common::startup::{Application, Service, ServiceSettings, Workers};
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::EntityTrait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Backend, StreamedEvent, at_least, nats_account_url};

/// How long [`Running::stop`] lets a service finish what it is doing.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// How long the waits for events and dead letters wait.
const WAIT: Duration = Duration::from_secs(10);

/// The settings every service has, as a test sets them.
pub struct Common {
    /// The test's temporary folder: the SQLite file, the signing key of a
    /// service alone, whatever else the service keeps on disk.
    pub dir: Arc<tempfile::TempDir>,
    /// Port 0: the system chooses a free one.
    pub http: HttpSettings,
    /// A fresh, empty database of the backend's.
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: AuthSettings,
}

impl Common {
    /// A service alone: a NATS account of its own and a new signing key
    /// (`jwt.key`) in its folder.
    pub async fn alone(backend: &Backend) -> Self {
        let dir = temp_dir();
        let nats = NatsSettings {
            url: nats_account_url(),
            ..NatsSettings::default()
        };
        let auth = AuthSettings {
            local_key_file: dir.path().join("jwt.key"),
            ..AuthSettings::default()
        };
        Self::with(backend, dir, nats, auth).await
    }

    /// A service beside another, as one deployment runs them: the other's
    /// NATS account and signing key, a database of its own.
    pub async fn beside(backend: &Backend, other: &impl ServiceSettings) -> Self {
        Self::with(
            backend,
            temp_dir(),
            other.nats().clone(),
            other.auth().clone(),
        )
        .await
    }

    async fn with(
        backend: &Backend,
        dir: Arc<tempfile::TempDir>,
        nats: NatsSettings,
        auth: AuthSettings,
    ) -> Self {
        pathway_common::telemetry::init_for_tests();
        Self {
            http: HttpSettings::with_port(0),
            database: database(backend, dir.path()).await,
            nats,
            auth,
            dir,
        }
    }
}

/// A fresh database of `backend`'s (a SQLite file in `dir`), five connections.
pub async fn database(backend: &Backend, dir: &std::path::Path) -> DatabaseSettings {
    DatabaseSettings {
        url: backend.fresh_url(dir).await,
        max_connections: 5,
    }
}

fn temp_dir() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().expect("a temporary folder"))
}

/// A service serving on a port of its own until stopped.
pub struct Running<S: Service> {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub http: reqwest::Client,
    /// The test's own connection to the service's NATS account.
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    /// The service's own database connection.
    pub db: sea_orm::DatabaseConnection,
    pub settings: S::Settings,
    /// The service's state, to drive its work one step at a time.
    pub app: S,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    dir: Arc<tempfile::TempDir>,
}

impl<S: Service> Running<S>
where
    S::Settings: Clone,
{
    /// Build the service with `settings`, run `workers`, and serve; `dir`
    /// lives as long as the service and its restarts.
    pub async fn start(
        settings: S::Settings,
        workers: Workers,
        dir: Arc<tempfile::TempDir>,
    ) -> Self {
        pathway_common::telemetry::init_for_tests();
        let application = Application::<S>::build_with(settings.clone(), workers)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{} builds against real NATS and a real database: {e:?}",
                    S::NAME
                )
            });
        let base = format!("http://127.0.0.1:{}", application.port());
        let app = application.service().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        let nats = pathway_common::bus::connect(settings.nats(), "test")
            .await
            .expect("the test connects to NATS");
        let authenticator = Authenticator::from_settings(settings.auth()).expect("local key");
        Self {
            base,
            http: reqwest::Client::new(),
            jetstream: jetstream::new(nats.clone()),
            nats,
            db: app.platform().db.clone(),
            settings,
            app,
            authenticator,
            shutdown,
            handle: Some(handle),
            dir,
        }
    }

    /// Stop taking work, let what is in flight finish (for at most 10 s),
    /// close the database.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(STOP_WITHIN, handle).await;
        }
        self.db.clone().close().await.ok();
    }

    /// Kill the service where it stands, as a crash would: what is in
    /// flight is dropped mid-request.
    pub async fn crash(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
            let _ = handle.await;
        }
        self.db.clone().close().await.ok();
    }

    /// Stop the service and start it again with the same settings: the same
    /// database and NATS account.
    pub async fn restart(self, workers: Workers) -> Self {
        let settings = self.settings.clone();
        self.restart_with(settings, workers).await
    }

    /// Stop the service and start it again with `settings`.
    pub async fn restart_with(mut self, settings: S::Settings, workers: Workers) -> Self {
        self.stop().await;
        Self::start(settings, workers, self.dir).await
    }

    /// [`Running::crash`], then start again with `settings`.
    pub async fn crash_and_restart(mut self, settings: S::Settings, workers: Workers) -> Self {
        self.crash().await;
        Self::start(settings, workers, self.dir).await
    }

    /// The test's temporary folder.
    pub fn dir(&self) -> &Arc<tempfile::TempDir> {
        &self.dir
    }
}

impl<S: Service> Running<S> {
    /// The local signing key's authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    pub fn token_for(&self, subject: &str, role: Role, boards: &[&str]) -> String {
        crate::signed_token(&self.authenticator, subject, role, boards, None)
    }

    /// A token for `role` on `boards`, with a subject named after the role.
    pub fn token(&self, role: Role, boards: &[&str]) -> String {
        self.token_for(&format!("test-{role}"), role, boards)
    }

    /// Publish `event` onto the stream as another service would, with
    /// `message_id` as its `Nats-Msg-Id`.
    pub async fn publish(&self, event: &Event, message_id: &str) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id);
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

    /// Publish `event` with its own id as `Nats-Msg-Id`.
    pub async fn send(&self, event: &Event) {
        self.publish(event, &event.event_id.clone()).await;
    }

    /// Every message on the pathway stream, in order.
    pub async fn stream_events(&self) -> Vec<StreamedEvent> {
        crate::stream_events(&self.jetstream).await
    }

    /// How many messages the pathway stream holds.
    pub async fn stream_count(&self) -> u64 {
        match self.jetstream.get_stream(pathway_proto::stream::NAME).await {
            Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    }

    /// Wait until the stream holds at least `count` messages; returns them.
    pub async fn wait_for_events(&self, count: usize) -> Vec<StreamedEvent> {
        at_least(WAIT, count, || self.stream_events())
            .await
            .unwrap_or_else(|found| {
                panic!(
                    "expected {count} events on the stream, found {}",
                    found.len()
                )
            })
    }

    /// The sum of the `pathway_<name>` series on `/metrics` whose labels
    /// include every one of `labels` (`consumer="decision"`, ...); 0 when
    /// there is none.
    pub async fn metric(&self, name: &str, labels: &[&str]) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("the service answers /metrics")
            .text()
            .await
            .expect("the metrics as text");
        let series = format!("pathway_{name}{{");
        text.lines()
            .filter(|line| line.starts_with(&series))
            .filter(|line| labels.iter().all(|label| line.contains(label)))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    }

    /// What the service's consumers refused, with the reasons.
    pub async fn dead_letters(&self) -> Vec<dead_letter::Model> {
        dead_letter::Entity::find()
            .all(&self.db)
            .await
            .expect("read dead letters")
    }

    /// Wait until at least `count` dead letters are recorded.
    pub async fn wait_for_dead_letters(&self, count: usize) -> Vec<dead_letter::Model> {
        at_least(WAIT, count, || self.dead_letters())
            .await
            .unwrap_or_else(|_| panic!("expected {count} dead letters"))
    }
}

/// `Deref` and `DerefMut` from a service's `TestApp` (a struct with a
/// `running` field) to its [`Running`].
#[macro_export]
macro_rules! running_app {
    ($app:ty => $service:ty) => {
        impl std::ops::Deref for $app {
            type Target = $crate::running::Running<$service>;
            fn deref(&self) -> &Self::Target {
                &self.running
            }
        }

        impl std::ops::DerefMut for $app {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.running
            }
        }
    };
}
