//! The analytics service under test, on a NATS account of its own: events
//! are published onto the stream by hand, as the other services would, and
//! the metrics are read back over HTTP.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use pathway_analytics::settings::Settings;
use pathway_analytics::startup::Application;
use pathway_common::auth::{Authenticator, Role};
use pathway_common::settings::{AuthSettings, DatabaseSettings, HttpSettings, NatsSettings};
use pathway_proto::v1::Event;
use prost::Message as _;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use crate::{Backend, eventually, nats_account_url};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub jetstream: jetstream::Context,
    pub db: sea_orm::DatabaseConnection,
    pub settings: Settings,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Arc<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn(backend: &Backend) -> Self {
        pathway_common::telemetry::init_for_tests();
        let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        let settings = Settings {
            http: HttpSettings::with_port(0),
            database: DatabaseSettings {
                url: backend.fresh_url(dir.path()).await,
                max_connections: 5,
            },
            nats: NatsSettings {
                url: nats_account_url(),
                ..NatsSettings::default()
            },
            auth: AuthSettings {
                local_key_file: dir.path().join("jwt.key"),
                ..AuthSettings::default()
            },
            ..Settings::default()
        };
        Self::start(settings, dir).await
    }

    /// The same service again on the same database and NATS account, after
    /// [`TestApp::stop`].
    pub async fn restart(self) -> Self {
        Self::start(self.settings.clone(), self._dir.clone()).await
    }

    async fn start(settings: Settings, dir: Arc<tempfile::TempDir>) -> Self {
        let application = Application::build(settings.clone())
            .await
            .expect("analytics builds against real NATS and a real database");
        let base = format!("http://127.0.0.1:{}", application.port());
        let db = application.service().platform.db.clone();
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
            db,
            settings,
            authenticator,
            shutdown,
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        self.db.clone().close().await.ok();
    }

    /// A token for `role` on `boards`.
    pub fn token(&self, role: Role, boards: &[&str]) -> String {
        crate::signed_token(
            &self.authenticator,
            &format!("test-{role}"),
            role,
            boards,
            None,
        )
    }

    /// Publish `event` onto the stream with `message_id` as `Nats-Msg-Id`.
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

    /// Wait until the consumer has handled `events` distinct events and has
    /// nothing left to deliver or to acknowledge.
    pub async fn wait_until_caught_up(&self, events: u64) {
        let caught_up = eventually(Duration::from_secs(30), || async {
            let handled = pathway_common::inbox::entity::Entity::find()
                .filter(pathway_common::inbox::entity::Column::Consumer.eq("analytics"))
                .count(&self.db)
                .await
                .ok()?;
            let mut consumer: jetstream::consumer::PullConsumer = self
                .jetstream
                .get_consumer_from_stream("analytics", pathway_proto::stream::NAME)
                .await
                .ok()?;
            let info = consumer.info().await.ok()?;
            (handled >= events && info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
        })
        .await;
        assert!(
            caught_up.is_some(),
            "analytics did not handle {events} events within 30 s"
        );
    }

    /// `GET /v1/metrics?<query>` as `token`.
    pub async fn metrics(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/metrics?{query}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics answers")
    }

    /// `GET /v1/metrics.csv?<query>` as `token`.
    pub async fn metrics_csv(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/metrics.csv?{query}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics answers")
    }
}
