//! The decision service under test, alone or beside intake on the same NATS
//! account and signing key (so that its referrer checks reach intake).

use std::time::Duration;

use pathway_decision::application::Decisions;
use pathway_decision::settings::Settings;
use pathway_decision::startup::Workers;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::running::{Common, Running};
use crate::{Backend, at_least};

pub struct TestApp {
    running: Running<Decisions>,
}

crate::running_app!(TestApp => Decisions);

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
        Self::start(Common::alone(backend).await).await
    }

    /// Decision beside a running intake: the same NATS account and the same
    /// signing key, as one deployment has.
    pub async fn spawn_beside(backend: &Backend, intake: &crate::intake::TestApp) -> Self {
        Self::start(Common::beside(backend, &intake.settings).await).await
    }

    async fn start(common: Common) -> Self {
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            intake_timeout_ms: 3000,
            ..Settings::default()
        };
        let running = Running::start(settings, test_workers(), common.dir).await;
        Self { running }
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
        at_least(Duration::from_secs(10), count, || {
            self.decisions_recorded(referral_id)
        })
        .await
        .unwrap_or_else(|found| {
            panic!(
                "expected {count} decision.recorded for {referral_id}, found {}",
                found.len()
            )
        })
    }

    /// The `decision.opt_in_lapsed` events on the stream, as (referral id,
    /// decision id).
    pub async fn opt_in_lapses(&self) -> Vec<(String, String)> {
        self.stream_events()
            .await
            .into_iter()
            .filter_map(|e| match &e.event.payload {
                Some(Payload::DecisionOptInLapsed(l)) => {
                    Some((e.event.referral_id.clone(), l.decision_id.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The `referral.closed` events on the stream: the decision service
    /// publishes none (notification closes a referral once everyone is told).
    pub async fn referrals_closed(&self) -> usize {
        self.stream_events()
            .await
            .into_iter()
            .filter(|e| matches!(&e.event.payload, Some(Payload::ReferralClosed(_))))
            .count()
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
            red_flag_override_reason_text_id: String::new(),
            // No text: decision tests run without vetting, which keeps texts.
            rationale_text_id: String::new(),
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
