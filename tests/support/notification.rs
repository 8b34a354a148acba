//! The notification service under test, beside a real intake (its contact
//! details come from there), with two real HTTP servers started by the test:
//! [`NotifyGateway`], which answers as GOV.UK Notify's API does and checks
//! what Notify checks (the JWT, the body), [`WebhookReceiver`], which
//! verifies each webhook's signature as a GP system would, [`FhirServer`],
//! which takes a hand-off's transaction Bundle as a FHIR R4 server does, and
//! [`SmtpSink`], a real SMTP server (mailin-embedded) on a free loopback
//! port.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use pathway_common::settings::HttpSettings;
use pathway_notification::application::Notifications;
use pathway_notification::settings::{
    BoardChannels, MessageGateway, ReferrerChannel, SenderSettings, Settings, SmtpSettings,
    WebhookGateway, WebhookSettings,
};
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::{self, Status};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::running::{Running, database};
use crate::{Backend, at_least, eventually};

/// The seed of the Ed25519 key the service signs webhooks with in tests,
/// written to its key file before it starts, so a receiver can check every
/// webhook from the first (the signing test also fetches the published key).
pub const WEBHOOK_SIGNING_SEED: [u8; 32] = [0x5a; 32];

/// The token the gateway presents on its status callbacks in tests.
pub const CALLBACK_TOKEN: &str = "test-notify-callback-token";

mod fhir_server;
mod notify_gateway;
mod smtp_sink;
mod webhook_receiver;

pub use fhir_server::*;
pub use notify_gateway::*;
pub use smtp_sink::*;
pub use webhook_receiver::*;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    base
}

/// Settings for a notification service that sends through `gateway` and
/// `receiver`, beside `intake`.
pub async fn settings_beside(
    backend: &Backend,
    intake: &crate::intake::TestApp,
    gateway: &NotifyGateway,
    receiver: &WebhookReceiver,
    dir: &std::path::Path,
) -> Settings {
    let board = BoardChannels {
        messages: MessageGateway::Notify,
        email: None,
        webhooks: WebhookGateway::Http,
        referrer_channel: ReferrerChannel::Webhook,
        gp_webhook_url: Some(receiver.url("gp")),
        receiving_services: [
            ("pain-association-scotland", receiver.url("partner")),
            ("pain_management_programme", receiver.url("programme")),
        ]
        .into_iter()
        .map(|(code, url)| (code.to_owned(), url))
        .collect(),
        notify_account: None,
        smtp_server: None,
        // The test's receiver listens on 127.0.0.1, which a board must allow
        // and list.
        allow_private_addresses: true,
        allowed_hosts: vec!["127.0.0.1".into()],
        tell_patient_of_withdrawal: None,
        daily_summary: None,
        tell_patient_of_decline: None,
        tell_patient_of_redirect: None,
    };
    let signing_key_file = dir.join("webhook-ed25519.key");
    if !signing_key_file.exists() {
        std::fs::write(&signing_key_file, hex::encode(WEBHOOK_SIGNING_SEED))
            .expect("the webhook signing key is written");
    }
    Settings {
        http: HttpSettings::with_port(0),
        database: database(backend, dir).await,
        nats: intake.settings.nats.clone(),
        auth: intake.settings.auth.clone(),
        intake_timeout_ms: 3000,
        sender: SenderSettings {
            poll_ms: 50,
            batch: 32,
            max_attempts: 4,
            min_backoff_ms: 20,
            max_backoff_ms: 100,
            lease_seconds: 60,
        },
        sink: pathway_notification::settings::SinkSettings {
            dir: dir.join("outbox-messages"),
        },
        notify: gateway.account(CALLBACK_TOKEN),
        webhook: WebhookSettings {
            signing_key_file,
            published_key_files: Vec::new(),
            timeout_ms: 500,
        },
        smtp: SmtpSettings::default(),
        notify_accounts: Default::default(),
        smtp_servers: Default::default(),
        boards: Default::default(),
        board_defaults: board,
        encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(dir.join("kek.key")),
        telemetry: Default::default(),
    }
}

pub struct TestApp {
    running: Running<Notifications>,
    /// Where the vetting that keeps the clinicians' texts [`text`] made is
    /// started, the first time [`TestApp::send`] needs it; `None` when the
    /// test runs its own vetting (a second one on the account would answer
    /// half its requests).
    texts_beside: Option<(Backend, pathway_intake::settings::Settings)>,
    vetting: Arc<tokio::sync::OnceCell<crate::vetting::VettingApp>>,
}

crate::running_app!(TestApp => Notifications);

impl TestApp {
    /// Notification beside a running intake (same NATS account, same key),
    /// sending through the test's gateway and receiver.
    pub async fn spawn(
        backend: &Backend,
        intake: &crate::intake::TestApp,
        gateway: &NotifyGateway,
        receiver: &WebhookReceiver,
        workers: Workers,
    ) -> Self {
        Self::spawn_with(backend, intake, gateway, receiver, workers, |_| {}).await
    }

    /// As [`TestApp::spawn`], with settings changed by `tweak`.
    pub async fn spawn_with(
        backend: &Backend,
        intake: &crate::intake::TestApp,
        gateway: &NotifyGateway,
        receiver: &WebhookReceiver,
        workers: Workers,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        pathway_common::telemetry::init_for_tests();
        let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        let mut settings = settings_beside(backend, intake, gateway, receiver, dir.path()).await;
        tweak(&mut settings);
        let mut app = Self::start(settings, workers, dir).await;
        app.texts_beside = Some((backend.clone(), intake.settings.clone()));
        app
    }

    /// Notification alone: the test runs the vetting that keeps the texts.
    pub async fn start(settings: Settings, workers: Workers, dir: Arc<tempfile::TempDir>) -> Self {
        let running = Running::start(settings, workers, dir).await;
        Self {
            running,
            texts_beside: None,
            vetting: Arc::default(),
        }
    }

    /// Publish `event` as its service would, its clinicians' texts (made by
    /// [`text`] and the helpers here) kept first in vetting, as vetting
    /// keeps them before it publishes.
    pub async fn send(&self, event: &Event) {
        self.keep_texts(event).await;
        self.running.send(event).await;
    }

    /// Keep the texts `event` names (registered by [`text`]) in vetting.
    pub async fn keep_texts(&self, event: &Event) {
        use pathway_vetting::store::clinical_text::Kind;
        let Some((backend, intake)) = &self.texts_beside else {
            return;
        };
        // Vetting keeps texts only of its boards' referrals (and has no data
        // key to keep one of a board that does not exist).
        if pathway_proto::BoardCode::parse(&event.board).is_err() {
            return;
        }
        let ids: Vec<(String, Kind)> = match &event.payload {
            Some(Payload::VettingInfoRequested(r)) => {
                vec![(r.question_text_id.clone(), Kind::Question)]
            }
            Some(Payload::VettingInfoRequestOverdue(r)) => {
                vec![(r.question_text_id.clone(), Kind::Question)]
            }
            Some(Payload::DecisionRecorded(d)) => {
                let outcome = d.outcome.clone().unwrap_or_default();
                vec![
                    (outcome.advice_text_id, Kind::Advice),
                    (outcome.reason_text_id, Kind::Reason),
                    (d.rationale_text_id.clone(), Kind::Rationale),
                ]
            }
            _ => Vec::new(),
        };
        for (id, kind) in ids {
            let Some(text) = registered(&id) else {
                continue;
            };
            let vetting = self
                .vetting
                .get_or_init(|| {
                    crate::vetting::VettingApp::spawn_texts_only_beside(intake, backend)
                })
                .await;
            if vetting.text(&id).await.is_none() {
                vetting
                    .keep_text(&id, &event.referral_id, &event.board, kind, &text)
                    .await;
            }
        }
    }

    /// Kill the service where it stands, as a crash would: in-flight sends
    /// are dropped mid-request. Then start it again on the same database and
    /// NATS account with `settings`.
    pub async fn crash_and_restart(self, settings: Settings) -> Self {
        let running = self
            .running
            .crash_and_restart(settings, Workers::default())
            .await;
        Self {
            running,
            texts_beside: self.texts_beside,
            vetting: self.vetting,
        }
    }

    /// Stop the service and start it again with `settings`: the same
    /// database and NATS account (a deployment reconfigured).
    pub async fn restart_with(self, settings: Settings, workers: Workers) -> Self {
        let running = self.running.restart_with(settings, workers).await;
        Self {
            running,
            texts_beside: self.texts_beside,
            vetting: self.vetting,
        }
    }

    /// `referral_id`'s deliveries, their address and words decrypted.
    pub async fn deliveries(&self, referral_id: &str) -> Vec<delivery::Model> {
        let rows = delivery::Entity::find()
            .filter(delivery::Column::ReferralId.eq(referral_id))
            .order_by_asc(delivery::Column::CreatedAt)
            .order_by_asc(delivery::Column::Recipient)
            .all(&self.db)
            .await
            .expect("read deliveries");
        pathway_notification::store::encrypted::open_all(&self.app.cipher, rows)
            .expect("the deliveries decrypt")
    }

    /// Wait until `count` deliveries of `referral_id` exist and none is
    /// planned or sending.
    pub async fn wait_until_settled(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<delivery::Model> {
        let settled = eventually(Duration::from_secs(15), || async {
            let rows = self.deliveries(referral_id).await;
            (rows.len() >= count
                && rows
                    .iter()
                    .all(|r| r.status == Status::Sent || r.status == Status::Failed))
            .then_some(rows)
        })
        .await;
        settled.unwrap_or_else(|| panic!("expected {count} settled deliveries of {referral_id}"))
    }

    /// Time passes: the leases of `referral_id`'s deliveries still `sending`
    /// (their worker died) run out.
    pub async fn lapse_leases(&self, referral_id: &str) {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::LeaseUntil,
                sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
            )
            .filter(delivery::Column::ReferralId.eq(referral_id))
            .filter(delivery::Column::Status.eq(Status::Sending))
            .exec(&self.db)
            .await
            .expect("let the leases lapse");
    }

    /// The board's notification settings as this service keeps them.
    pub async fn board_notification(
        &self,
        board: &str,
    ) -> Option<pathway_notification::store::board_notification::Model> {
        pathway_notification::store::board_notification::Entity::find_by_id(board.to_owned())
            .one(&self.db)
            .await
            .expect("read the board's notification settings")
    }

    /// Wait until `count` deliveries of `referral_id` are planned.
    pub async fn wait_until_planned(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<delivery::Model> {
        at_least(Duration::from_secs(15), count, || {
            self.deliveries(referral_id)
        })
        .await
        .unwrap_or_else(|_| panic!("expected {count} deliveries of {referral_id}"))
    }

    /// The notification events on the stream for `referral_id`.
    pub async fn notification_events(&self, referral_id: &str) -> Vec<Payload> {
        self.stream_events()
            .await
            .into_iter()
            .filter(|e| e.event.referral_id == referral_id)
            .filter_map(|e| match e.event.payload {
                Some(payload @ (Payload::NotificationSent(_) | Payload::NotificationFailed(_))) => {
                    Some(payload)
                }
                _ => None,
            })
            .collect()
    }

    /// Wait until `count` notification events for `referral_id` are on the stream.
    pub async fn wait_for_notification_events(
        &self,
        referral_id: &str,
        count: usize,
    ) -> Vec<Payload> {
        at_least(Duration::from_secs(15), count, || {
            self.notification_events(referral_id)
        })
        .await
        .unwrap_or_else(|_| panic!("expected {count} notification events for {referral_id}"))
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("notification answers")
    }

    /// A status callback as the gateway sends it.
    pub async fn callback(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/callbacks/notify", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("notification answers")
    }

    pub async fn post(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("notification answers")
    }
}

/// A `decision.recorded` for `referral_id`, as decision publishes it.
pub fn decision_recorded(board: &str, referral_id: &str, outcome: proto::Outcome) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("a UUID")),
        "dr-vetting",
        chrono::Utc::now(),
        Payload::DecisionRecorded(proto::DecisionRecorded {
            decision_id: uuid::Uuid::now_v7().to_string(),
            outcome: Some(outcome),
            clinician: "dr-vetting".into(),
            decided_at: Some(proto::timestamp(chrono::Utc::now())),
            target_date: "2026-03-20".into(),
            supersedes_decision_id: String::new(),
            opt_in_deadline: None,
            rationale_text_id: text("long-standing back pain, no red flags"),
            red_flag_override_reason_text_id: String::new(),
        }),
    )
}

/// Texts made by [`text`], by id: the test's stand-in for the clinician who
/// wrote them, kept in a real vetting by [`TestApp::send`].
static TEXTS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// A clinician's `text`, under a new id for an event to carry.
pub fn text(text: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    TEXTS
        .lock()
        .expect("the texts")
        .insert(id.clone(), text.to_owned());
    id
}

/// The text [`text`] made under `id`.
pub fn registered(id: &str) -> Option<String> {
    TEXTS.lock().expect("the texts").get(id).cloned()
}

/// A `vetting.info_requested` for `referral_id`.
pub fn info_requested(board: &str, referral_id: &str, question: &str) -> Event {
    Event::new(
        board,
        Some(uuid::Uuid::parse_str(referral_id).expect("a UUID")),
        "dr-vetting",
        chrono::Utc::now(),
        Payload::VettingInfoRequested(proto::VettingInfoRequested {
            information_request_id: uuid::Uuid::now_v7().to_string(),
            clinician: "dr-vetting".into(),
            question_text_id: text(question),
        }),
    )
}
