//! The whole pathway, one instance of each service, each on a Tokio runtime
//! of its own ([`Instance`]), sending through the local Notify stand-in and
//! the GP's webhook receiver: what the chaos test and the end-to-end
//! benchmark drive.
//!
//! [`Prepared::on`] starts intake once, alone, to create the stream (on as
//! many replicas as the NATS settings ask) and switch the board on, and
//! makes every other service's settings beside it: the same NATS account and
//! signing key, a fresh database of the backend's each. That first intake is
//! then stopped; [`Prepared`] keeps its folder and the others' (a SQLite file
//! lives there) for as long as it lives. [`Pathway::start`] starts one
//! instance of each service on those settings.

use std::sync::Arc;

use pathway_analytics::application::Analytics;
use pathway_common::auth::{Authenticator, Role};
use pathway_common::settings::NatsSettings;
use pathway_common::startup::Workers;
use pathway_decision::application::Decisions;
use pathway_intake::application::Intake;
use pathway_notification::application::Notifications;
use pathway_vetting::application::Vetting;

use crate::cluster::Instance;
use crate::notification::{NotifyGateway, WebhookReceiver, settings_beside};
use crate::running::Common;
use crate::{Backend, signed_token};

/// Every service's settings, the far end they send to, and the signing key
/// their tokens share.
pub struct Prepared {
    pub intake: pathway_intake::settings::Settings,
    pub vetting: pathway_vetting::settings::Settings,
    pub decision: pathway_decision::settings::Settings,
    pub notification: pathway_notification::settings::Settings,
    pub analytics: pathway_analytics::settings::Settings,
    pub gateway: NotifyGateway,
    pub receiver: WebhookReceiver,
    pub authenticator: Authenticator,
    /// The first intake, stopped: its folder holds intake's SQLite file
    /// and the signing key.
    _first: crate::intake::TestApp,
    _dirs: Vec<Arc<tempfile::TempDir>>,
}

impl Prepared {
    /// Settings for the pathway on `backend`, with `board` switched on;
    /// `nats` replaces the NATS settings (a cluster's), or a NATS account
    /// of its own on the test server when `None`.
    pub async fn on(backend: &Backend, nats: Option<NatsSettings>, board: &str) -> Self {
        let mut first = crate::intake::TestApp::spawn_adjusted(backend, Workers::default(), |s| {
            if let Some(nats) = nats {
                s.nats = nats;
            }
        })
        .await;
        first.enable_board(board).await;
        let authenticator =
            Authenticator::from_settings(&first.settings.auth).expect("the local signing key");
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let notification_dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
        let notification = settings_beside(
            backend,
            &first,
            &gateway,
            &receiver,
            notification_dir.path(),
        )
        .await;
        let vetting_common = Common::beside(backend, &first.settings).await;
        let vetting = pathway_vetting::settings::Settings {
            http: vetting_common.http,
            database: vetting_common.database,
            nats: vetting_common.nats,
            auth: vetting_common.auth,
            encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(
                vetting_common.dir.path().join("vetting-kek.key"),
            ),
            ..Default::default()
        };
        let decision_common = Common::beside(backend, &first.settings).await;
        let decision = pathway_decision::settings::Settings {
            http: decision_common.http,
            database: decision_common.database,
            nats: decision_common.nats,
            auth: decision_common.auth,
            intake_timeout_ms: 3000,
            ..Default::default()
        };
        let analytics_common = Common::beside(backend, &first.settings).await;
        let analytics = pathway_analytics::settings::Settings {
            http: analytics_common.http,
            database: analytics_common.database,
            nats: analytics_common.nats,
            auth: analytics_common.auth,
            ..Default::default()
        };
        let intake = first.settings.clone();
        first.stop().await;
        Self {
            intake,
            vetting,
            decision,
            notification,
            analytics,
            gateway,
            receiver,
            authenticator,
            _first: first,
            _dirs: vec![
                notification_dir,
                vetting_common.dir,
                decision_common.dir,
                analytics_common.dir,
            ],
        }
    }

    /// A token for `subject` as `role` on `board`.
    pub fn token(&self, subject: &str, role: Role, board: &str, name: Option<String>) -> String {
        signed_token(&self.authenticator, subject, role, &[board], name)
    }
}

/// One instance of every service, each on its own runtime.
pub struct Pathway {
    pub intake: Instance<Intake>,
    pub vetting: Instance<Vetting>,
    pub decision: Instance<Decisions>,
    pub notification: Instance<Notifications>,
    pub analytics: Instance<Analytics>,
}

impl Pathway {
    /// Start one instance of each service on `prepared`'s settings.
    pub async fn start(prepared: &Prepared, workers: Workers) -> Self {
        Self {
            intake: Instance::start(prepared.intake.clone(), workers).await,
            vetting: Instance::start(prepared.vetting.clone(), workers).await,
            decision: Instance::start(prepared.decision.clone(), workers).await,
            notification: Instance::start(prepared.notification.clone(), workers).await,
            analytics: Instance::start(prepared.analytics.clone(), workers).await,
        }
    }
}
