//! The intake service under test.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use pathway_common::auth::{Authenticator, Role};
use pathway_common::settings::{AuthSettings, DatabaseSettings, HttpSettings, NatsSettings};
use pathway_intake::settings::Settings;
use pathway_intake::startup::{Application, Workers};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{Backend, eventually, nats_account_url};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub db: sea_orm::DatabaseConnection,
    pub settings: Settings,
    pub app: pathway_intake::application::Intake,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Arc<tempfile::TempDir>,
}

pub use crate::StreamedEvent;

impl TestApp {
    pub async fn spawn(backend: &Backend) -> Self {
        Self::spawn_with(backend, Workers::default()).await
    }

    pub async fn spawn_with(backend: &Backend, workers: Workers) -> Self {
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
            pseudonym_key_file: dir.path().join("pseudonym.key"),
            postcode_lookup_file: Some(
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../deploy/boards/postcodes.sample.csv"),
            ),
            ..Settings::default()
        };
        Self::start(settings, workers, dir).await
    }

    async fn start(settings: Settings, workers: Workers, dir: Arc<tempfile::TempDir>) -> Self {
        let application = Application::build_with(settings.clone(), workers)
            .await
            .expect("intake builds against real NATS and a real database");
        let base = format!("http://127.0.0.1:{}", application.port());
        let app = application.service().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        let nats = pathway_common::bus::connect(&settings.nats, "test")
            .await
            .expect("the test connects to NATS");
        let jetstream = jetstream::new(nats.clone());
        let authenticator = Authenticator::from_settings(&settings.auth).expect("local key");
        Self {
            base,
            http: reqwest::Client::new(),
            nats,
            jetstream,
            db: app.platform.db.clone(),
            settings,
            app,
            authenticator,
            shutdown,
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// Stop the service (as a crash would, between two requests) and start
    /// it again on the same database and NATS account.
    pub async fn restart(mut self, workers: Workers) -> Self {
        self.stop().await;
        let mut settings = self.settings.clone();
        settings.http = HttpSettings::with_port(0);
        Self::start(settings, workers, self._dir.clone()).await
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        self.db.clone().close().await.ok();
    }

    pub fn token_for(&self, subject: &str, role: Role, boards: &[&str]) -> String {
        crate::signed_token(&self.authenticator, subject, role, boards, None)
    }

    /// A token for `role` on `boards`, with a subject named after the role.
    pub fn token(&self, role: Role, boards: &[&str]) -> String {
        self.token_for(&format!("test-{role}"), role, boards)
    }

    pub async fn switch_board(
        &self,
        board: &str,
        enabled: bool,
        effective_date: Option<&str>,
    ) -> reqwest::Response {
        let mut body = serde_json::json!({"enabled": enabled, "reason": "test"});
        if let Some(date) = effective_date {
            body["effective_date"] = Value::String(date.to_owned());
        }
        self.http
            .put(format!("{}/v1/boards/{board}/pathway", self.base))
            .bearer_auth(self.token(Role::BoardAdmin, &[board]))
            .json(&body)
            .send()
            .await
            .expect("intake answers")
    }

    pub async fn enable_board(&self, board: &str) {
        let response = self.switch_board(board, true, None).await;
        assert_eq!(
            response.status(),
            200,
            "switching {board} on: {}",
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn post_referral(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/referrals", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("intake answers")
    }

    /// POST a valid referral as the default referrer of `board`; returns its id.
    pub async fn refer(&self, body: &Value) -> String {
        let board = body["board"].as_str().unwrap_or("highland").to_owned();
        let response = self
            .post_referral(&self.token(Role::Referrer, &[&board]), body)
            .await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("JSON answer");
        created["id"].as_str().expect("an id").to_owned()
    }

    pub async fn get_referral(&self, token: &str, id: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/referrals/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("intake answers")
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
        let found = eventually(Duration::from_secs(10), || async {
            let events = self.stream_events().await;
            (events.len() >= count).then_some(events)
        })
        .await;
        match found {
            Some(events) => events,
            None => panic!(
                "expected {count} events on the stream, found {}",
                self.stream_events().await.len()
            ),
        }
    }
}

impl TestApp {
    /// PUT `body` (sent as JSON text, so broken JSON can be sent too) as a
    /// board's settings with `token`.
    pub async fn put_board_settings(
        &self,
        token: &str,
        board: &str,
        body: &str,
    ) -> reqwest::Response {
        self.http
            .put(format!("{}/v1/boards/{board}/settings", self.base))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("intake answers")
    }

    pub async fn get_board_settings(&self, token: &str, board: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/boards/{board}/settings", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("intake answers")
    }

    /// The example settings document the README uses.
    pub fn example_board_settings() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/board-settings.json");
        serde_json::from_str(
            &std::fs::read_to_string(path).expect("examples/board-settings.json is there"),
        )
        .expect("examples/board-settings.json is JSON")
    }
}
