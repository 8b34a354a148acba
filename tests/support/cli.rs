//! The whole platform, for the CLI's tests: intake, vetting, decision,
//! notification (sending through the Notify stand-in and the webhook
//! receiver) and analytics, each the real `Application` on port 0, all on one
//! NATS account and one signing key as one deployment runs them; the global
//! flags that point `pathway` at them; typed look-ups of what a command did
//! (as a board admin, clinician or evaluator would see it through the APIs);
//! and [`Ran`], what one command printed.

use std::time::Duration;

use pathway_analytics::application::Analytics;
use pathway_analytics::startup::Workers;
use pathway_common::auth::{Authenticator, Role};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::notification::{NotifyGateway, WebhookReceiver};
use crate::running::{Common, Running};
use crate::{Backend, decision, eventually, intake, notification, vetting};

/// Analytics beside intake: the same NATS account (so it reads what the
/// other services publish) and the same signing key.
pub struct AnalyticsApp {
    running: Running<Analytics>,
}

crate::running_app!(AnalyticsApp => Analytics);

impl AnalyticsApp {
    pub async fn spawn(backend: &Backend, intake: &intake::TestApp) -> Self {
        let common = Common::beside(backend, &intake.settings).await;
        let settings = pathway_analytics::settings::Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            ..Default::default()
        };
        let running = Running::start(settings, Workers::default(), common.dir).await;
        Self { running }
    }

    /// Wait until analytics has handled every message on the stream so far
    /// and has nothing left to deliver or to acknowledge.
    pub async fn wait_until_caught_up(&self) {
        assert!(
            crate::analytics::caught_up(&self.running, None).await,
            "analytics did not catch up within 90 s"
        );
    }
}

/// Every service, on one NATS account and one signing key.
pub struct Platform {
    pub intake: intake::TestApp,
    pub vetting: vetting::VettingApp,
    pub decision: decision::TestApp,
    pub notification: notification::TestApp,
    pub gateway: NotifyGateway,
    pub receiver: WebhookReceiver,
    pub analytics: AnalyticsApp,
}

impl Platform {
    pub async fn start(backend: &Backend) -> Self {
        let intake = intake::TestApp::spawn(backend).await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let (vetting, decision, notification, analytics) = tokio::join!(
            vetting::VettingApp::spawn(&intake, backend),
            decision::TestApp::spawn_beside(backend, &intake),
            notification::TestApp::spawn(
                backend,
                &intake,
                &gateway,
                &receiver,
                pathway_notification::startup::Workers::default(),
            ),
            AnalyticsApp::spawn(backend, &intake),
        );
        Self {
            intake,
            vetting,
            decision,
            notification,
            gateway,
            receiver,
            analytics,
        }
    }

    pub async fn stop(mut self) {
        self.analytics.stop().await;
        self.notification.stop().await;
        self.decision.stop().await;
        self.vetting.stop().await;
        self.intake.stop().await;
    }

    /// The global flags that point `pathway` at this platform and its key,
    /// but for those `line` sets itself.
    pub fn cli_flags(&self, line: &[String]) -> Vec<String> {
        let key_file = self.intake.settings.auth.local_key_file.display();
        [
            ("--intake", self.intake.base.clone()),
            ("--vetting", self.vetting.base.clone()),
            ("--decision", self.decision.base.clone()),
            ("--notification", self.notification.base.clone()),
            ("--analytics", self.analytics.base.clone()),
            ("--key-file", key_file.to_string()),
        ]
        .into_iter()
        .filter(|(flag, _)| !line.iter().any(|word| word == flag))
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }

    /// A token for `role` on `boards`, for `subject`.
    pub fn token(&self, subject: &str, role: Role, boards: &[&str]) -> String {
        vetting::token_with_key(self.authenticator(), subject, role, boards)
    }

    /// The authenticator every service checks tokens with.
    pub fn authenticator(&self) -> &Authenticator {
        self.intake.authenticator()
    }

    /// `GET <url>` as `token`: the status and the body.
    pub async fn get(&self, url: &str, token: &str) -> (u16, String) {
        let response = self
            .intake
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("the service answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// `GET <url>` as `token`, which must answer 200 with JSON.
    pub async fn get_json(&self, url: &str, token: &str) -> Value {
        let (status, body) = self.get(url, token).await;
        assert_eq!(status, 200, "GET {url}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// A board as intake's board admin API lists it.
    pub async fn board(&self, code: &str) -> Value {
        let admin = self.token("admin-ruth", Role::BoardAdmin, &["*"]);
        let boards = self
            .get_json(&format!("{}/v1/boards", self.intake.base), &admin)
            .await;
        boards
            .as_array()
            .and_then(|b| b.iter().find(|b| b["code"] == code).cloned())
            .unwrap_or_else(|| panic!("{code} is not listed: {boards}"))
    }

    /// A board's settings view (settings, who stored them, every change).
    pub async fn board_settings(&self, code: &str) -> Value {
        let admin = self.token("admin-ruth", Role::BoardAdmin, &[code]);
        let url = format!("{}/v1/boards/{code}/settings", self.intake.base);
        self.get_json(&url, &admin).await
    }

    /// A referral as its board's clinician reads it from intake.
    pub async fn referral(&self, board: &str, id: &str) -> Value {
        let clinician = self.token("dr-mackay", Role::Clinician, &[board]);
        let url = format!("{}/v1/referrals/{id}", self.intake.base);
        self.get_json(&url, &clinician).await
    }

    /// How many referrals intake stores.
    pub async fn referral_count(&self) -> u64 {
        pathway_intake::store::referral::Entity::find()
            .count(&self.intake.db)
            .await
            .expect("count referrals")
    }

    /// Vet referral `id` of `board` as `clinician`: claim it once vetting
    /// has it, and record `outcome`.
    pub async fn vet(&self, board: &str, id: &str, clinician: &str, outcome: &Value) {
        let token = self.token(clinician, Role::Clinician, &[board]);
        self.vetting.wait_for_referral(board, id).await;
        let path = format!("/v1/referrals/{id}");
        let claim = self
            .vetting
            .post_empty(&format!("{path}/claim"), &token)
            .await;
        assert_eq!(claim.status(), 200, "claim {id}");
        let recorded = self
            .vetting
            .post(&format!("{path}/outcome"), &token, outcome)
            .await;
        assert_eq!(recorded.status(), 201, "record an outcome for {id}");
    }

    /// Wait until the decision service has a decision for `id`; returns it.
    pub async fn wait_for_decision(&self, board: &str, id: &str) -> Value {
        let token = self.token("dr-mackay", Role::Clinician, &[board]);
        let url = format!("{}/v1/referrals/{id}/decision", self.decision.base);
        eventually(Duration::from_secs(15), || async {
            let (status, body) = self.get(&url, &token).await;
            (status == 200).then(|| serde_json::from_str(&body).expect("JSON"))
        })
        .await
        .unwrap_or_else(|| panic!("no decision for {id}"))
    }

    /// `GET <path>` from analytics as an evaluator of every board.
    pub async fn analytics(&self, path: &str) -> (u16, String) {
        let evaluator = self.token("eve", Role::Evaluator, &["*"]);
        self.get(&format!("{}{path}", self.analytics.base), &evaluator)
            .await
    }
}

/// What one `pathway` command printed, and the error `main` would print.
pub struct Ran {
    pub command: String,
    pub out: String,
    pub err: String,
    pub error: Option<String>,
}

impl Ran {
    /// The command succeeded: what it printed on stdout.
    pub fn ok(self) -> String {
        if let Some(error) = &self.error {
            panic!("`pathway {}` failed: {error}\n{}", self.command, self.err);
        }
        self.out
    }

    /// The command failed with an error that starts with `start` and holds
    /// each of `parts`; the error, as `main` prints it.
    pub fn refused(self, start: &str, parts: &[&str]) -> String {
        let Some(error) = self.error else {
            panic!("`pathway {}` succeeded:\n{}", self.command, self.out);
        };
        for part in parts {
            assert!(error.contains(part), "no `{part}` in the error:\n{error}");
        }
        assert!(error.starts_with(start), "not `{start}...`:\n{error}");
        error
    }
}

/// A command line split into words as a shell would, `"double quotes"`
/// keeping spaces in one word.
pub fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut started) = (String::new(), false, false);
    for c in line.chars() {
        if c.is_whitespace() && !quoted {
            if started {
                words.push(std::mem::take(&mut word));
            }
            started = false;
            continue;
        }
        if c == '"' {
            quoted = !quoted;
        } else {
            word.push(c);
        }
        started = true;
    }
    if started {
        words.push(word);
    }
    words
}

/// A file holding `text` in `dir`; its path.
pub fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.display().to_string()
}
