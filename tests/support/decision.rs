//! The decision service under test, alone or beside intake on the same NATS
//! account and signing key (so that its referrer checks reach intake).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use pathway_common::auth::{Authenticator, Role};
use pathway_common::settings::{AuthSettings, DatabaseSettings, HttpSettings, NatsSettings};
use pathway_decision::application::Decisions;
use pathway_decision::settings::Settings;
use pathway_decision::startup::{Application, Workers};
use pathway_proto::v1::{self as proto, Event, Payload};
use prost::Message as _;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use crate::intake::StreamedEvent;
use crate::{Backend, eventually, nats_account_url};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub db: sea_orm::DatabaseConnection,
    pub settings: Settings,
    pub app: Decisions,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Arc<tempfile::TempDir>,
}

/// The workers tests run: the sweep of opt-in windows stays off, tests call
/// `close_lapsed_opt_in_windows` with the time they choose.
pub fn test_workers() -> Workers {
    Workers {
        sweeps: false,
        ..Workers::default()
    }
}

impl TestApp {
    /// Decision alone, on an account of its own.
    pub async fn spawn(backend: &Backend) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        let auth = AuthSettings {
            local_key_file: dir.path().join("jwt.key"),
            ..AuthSettings::default()
        };
        Self::start(backend, nats_account_url(), auth, dir).await
    }

    /// Decision beside a running intake: the same NATS account and the same
    /// signing key, as one deployment has.
    pub async fn spawn_beside(backend: &Backend, intake: &crate::intake::TestApp) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        Self::start(
            backend,
            intake.settings.nats.url.clone(),
            intake.settings.auth.clone(),
            dir,
        )
        .await
    }

    async fn start(
        backend: &Backend,
        nats_url: String,
        auth: AuthSettings,
        dir: Arc<tempfile::TempDir>,
    ) -> Self {
        pathway_common::telemetry::init_for_tests();
        let settings = Settings {
            http: HttpSettings::with_port(0),
            database: DatabaseSettings {
                url: backend.fresh_url(dir.path()).await,
                max_connections: 5,
            },
            nats: NatsSettings {
                url: nats_url,
                ..NatsSettings::default()
            },
            auth,
            intake_timeout_ms: 3000,
            ..Settings::default()
        };
        let application = Application::build_with(settings.clone(), test_workers())
            .await
            .expect("decision builds against real NATS and a real database");
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

    pub async fn get_decision(&self, token: Option<&str>, referral_id: &str) -> reqwest::Response {
        let mut request = self
            .http
            .get(format!("{}/v1/referrals/{referral_id}/decision", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("decision answers")
    }

    /// Every message on the pathway stream, in order.
    pub async fn stream_events(&self) -> Vec<StreamedEvent> {
        crate::stream_events(&self.jetstream).await
    }

    /// The `decision.recorded` events on the stream for `referral_id`.
    pub async fn decisions_recorded(
        &self,
        referral_id: &str,
    ) -> Vec<(Event, proto::DecisionRecorded)> {
        self.stream_events()
            .await
            .into_iter()
            .filter(|e| e.event.referral_id == referral_id)
            .filter_map(|e| match &e.event.payload {
                Some(Payload::DecisionRecorded(d)) => Some((e.event.clone(), d.clone())),
                _ => None,
            })
            .collect()
    }

    /// Wait until `count` decisions for `referral_id` are on the stream.
    pub async fn wait_for_decisions(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<(Event, proto::DecisionRecorded)> {
        let found = eventually(Duration::from_secs(10), || async {
            let found = self.decisions_recorded(referral_id).await;
            (found.len() >= count).then_some(found)
        })
        .await;
        match found {
            Some(found) => found,
            None => panic!(
                "expected {count} decision.recorded for {referral_id}, found {}",
                self.decisions_recorded(referral_id).await.len()
            ),
        }
    }

    /// The `referral.closed` events on the stream, as (referral id, reason).
    pub async fn referrals_closed(&self) -> Vec<(String, String)> {
        self.stream_events()
            .await
            .into_iter()
            .filter_map(|e| match &e.event.payload {
                Some(Payload::ReferralClosed(c)) => {
                    Some((e.event.referral_id.clone(), c.reason.clone()))
                }
                _ => None,
            })
            .collect()
    }

    pub async fn dead_letters(&self) -> Vec<pathway_common::inbox::dead_letter::Model> {
        pathway_common::inbox::dead_letter::Entity::find()
            .all(&self.db)
            .await
            .expect("read dead letters")
    }

    /// Wait until at least `count` dead letters are recorded.
    pub async fn wait_for_dead_letters(
        &self,
        count: usize,
    ) -> Vec<pathway_common::inbox::dead_letter::Model> {
        eventually(Duration::from_secs(10), || async {
            let rows = self.dead_letters().await;
            (rows.len() >= count).then_some(rows)
        })
        .await
        .unwrap_or_else(|| panic!("expected {count} dead letters"))
    }

    pub async fn decision_rows(
        &self,
        referral_id: &str,
    ) -> Vec<pathway_decision::store::decision::Model> {
        pathway_decision::store::decision::Entity::find()
            .filter(pathway_decision::store::decision::Column::ReferralId.eq(referral_id))
            .all(&self.db)
            .await
            .expect("read decisions")
    }

    pub async fn audit_rows(&self, action: &str, referral_id: &str) -> usize {
        pathway_common::audit::entity::Entity::find()
            .all(&self.db)
            .await
            .expect("read audit")
            .into_iter()
            .filter(|row| row.action == action && row.referral_id.as_deref() == Some(referral_id))
            .count()
    }
}

/// A `vetting.completed` event, as vetting would publish it.
pub fn vetting_completed(
    board: &str,
    referral_id: &str,
    outcome: proto::Outcome,
    correction: bool,
) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("a UUID")),
        "dr-vetting",
        chrono::Utc::now(),
        Payload::VettingCompleted(proto::VettingCompleted {
            clinician: "dr-vetting".into(),
            outcome: Some(outcome),
            red_flag_override_reason: String::new(),
            rationale: "long-standing back pain, no red flags; needs the clinic".into(),
            correction,
        }),
    )
}

/// An outcome of `kind` with no other field set.
pub fn outcome(kind: proto::OutcomeKind) -> proto::Outcome {
    proto::Outcome {
        kind: kind as i32,
        ..proto::Outcome::default()
    }
}

/// An accept at `priority`, by video.
pub fn accept(priority: proto::Priority) -> proto::Outcome {
    proto::Outcome {
        priority: priority as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..outcome(proto::OutcomeKind::Accept)
    }
}

/// A fresh referral id.
pub fn new_referral() -> String {
    uuid::Uuid::now_v7().to_string()
}
