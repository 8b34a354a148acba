//! The intake service under test.

use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_intake::application::Intake;
use pathway_intake::application::boards::{Board, PathwaySwitch};
use pathway_intake::application::referrals::{ReferralSummary, Submitted};
use pathway_intake::settings::Settings;
use pathway_intake::startup::Workers;
use serde_json::Value;

use crate::Backend;
use crate::running::{Common, Running};

/// Intake on a NATS account of its own, signing tokens with a key of its own.
pub struct TestApp {
    running: Running<Intake>,
}

crate::running_app!(TestApp => Intake);

pub use crate::StreamedEvent;

impl TestApp {
    pub async fn spawn(backend: &Backend) -> Self {
        Self::spawn_with(backend, Workers::default()).await
    }

    pub async fn spawn_with(backend: &Backend, workers: Workers) -> Self {
        Self::spawn_adjusted(backend, workers, |_| {}).await
    }

    /// Intake with the test's settings changed by `adjust` first (a time
    /// limit, a rate limit, trusted proxies).
    pub async fn spawn_adjusted(
        backend: &Backend,
        workers: Workers,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let common = Common::alone(backend).await;
        let dir = common.dir.path();
        let mut settings = Settings {
            pseudonym_key_file: dir.join("pseudonym.key"),
            opt_in_key_file: dir.join("opt-in.key"),
            encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(
                dir.join("kek.key"),
            ),
            postcode_lookup_file: Some(
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../deploy/boards/postcodes.sample.csv"),
            ),
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            ..Settings::default()
        };
        adjust(&mut settings);
        let running = Running::start(settings, workers, common.dir).await;
        Self { running }
    }

    /// Stop the service (as a crash would, between two requests) and start
    /// it again on the same database and NATS account.
    pub async fn restart(self, workers: Workers) -> Self {
        let running = self.running.restart(workers).await;
        Self { running }
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

    /// POST `body` with `token` and an `Idempotency-Key`.
    pub async fn post_referral_with_key(
        &self,
        token: &str,
        body: &Value,
        key: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/referrals", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("intake answers")
    }

    /// POST `body` to the referral's `action` (`withdraw`, `information`).
    pub async fn referral_action(
        &self,
        token: &str,
        id: &str,
        action: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/referrals/{id}/{action}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("intake answers")
    }

    pub async fn get_referral(&self, token: &str, id: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/referrals/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("intake answers")
    }
}

/// Intake's use cases called at an instant the test chooses (a night around
/// a clock change), as a request arriving then would call them.
impl TestApp {
    /// Receive `body` from the default referrer of its board at `now`.
    pub async fn refer_at(&self, body: &Value, now: DateTime<Utc>) -> ReferralSummary {
        let board = body["board"].as_str().unwrap_or("highland");
        let request = serde_json::from_value(body.clone()).expect("a referral request");
        let bytes = serde_json::to_vec(body).expect("JSON");
        match self
            .app
            .submit_referral(&caller(Role::Referrer, board), None, &bytes, request, now)
            .await
        {
            Ok(Submitted::Created(summary)) => summary,
            other => panic!("the referral for {board} at {now} was not received: {other:?}"),
        }
    }

    /// Switch `board` on from the day `now` falls on, as its board admin.
    pub async fn enable_board_at(&self, board: &str, now: DateTime<Utc>) -> Board {
        let switch = PathwaySwitch {
            enabled: true,
            effective_date: None,
            reason: Some("test"),
        };
        self.app
            .switch_pathway(&caller(Role::BoardAdmin, board), board, switch, now)
            .await
            .expect("the board admin switches the board on")
    }

    /// `board` as the board list shows it at `now`.
    pub async fn board_at(&self, board: &str, now: DateTime<Utc>) -> Board {
        self.app
            .boards(now)
            .await
            .expect("the boards")
            .into_iter()
            .find(|b| b.board.code() == board)
            .expect("a board of the registry")
    }
}

/// Whom a token of `role` for `board` stands for, as `TestApp::token` issues it.
fn caller(role: Role, board: &str) -> Caller {
    Caller {
        subject: format!("test-{role}"),
        name: None,
        role,
        boards: [board.to_owned()].into(),
        source: "test".into(),
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
