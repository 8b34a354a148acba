//! The vetting service under test, beside an intake on the same NATS
//! account and signing key, so referrals flow from one to the other as in
//! production.

use std::time::Duration;

use pathway_common::auth::{Authenticator, Role};
use pathway_vetting::application::Vetting;
use pathway_vetting::clock::Clock;
use pathway_vetting::settings::Settings;
use pathway_vetting::startup::Workers;
use serde_json::Value;

use crate::intake::TestApp;
use crate::running::{Common, Running};
use crate::{Backend, eventually};

pub struct VettingApp {
    running: Running<Vetting>,
    /// The service's clock: move it forward to make claims lapse.
    pub clock: Clock,
}

crate::running_app!(VettingApp => Vetting);

impl VettingApp {
    /// Vetting beside `intake`: same NATS account, same signing key. The
    /// lease sweep is off: tests call `expire_leases` when they want it.
    pub async fn spawn(intake: &TestApp, backend: &Backend) -> Self {
        let common = Common::beside(backend, &intake.settings).await;
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(
                common.dir.path().join("vetting-kek.key"),
            ),
            ..Settings::default()
        };
        let clock = settings.clock.clone();
        let workers = Workers {
            sweeps: false,
            ..Workers::default()
        };
        let running = Running::start(settings, workers, common.dir).await;
        Self { running, clock }
    }

    /// Vetting beside `intake` answering only for the clinicians' texts it
    /// keeps (no consumer, no sweep): what a service that quotes them reads.
    pub async fn spawn_texts_only(intake: &TestApp, backend: &Backend) -> Self {
        Self::spawn_texts_only_beside(&intake.settings, backend).await
    }

    /// As [`VettingApp::spawn_texts_only`], beside the intake whose settings
    /// are `intake`.
    pub async fn spawn_texts_only_beside(
        intake: &pathway_intake::settings::Settings,
        backend: &Backend,
    ) -> Self {
        let common = Common::beside(backend, intake).await;
        let settings = Settings {
            http: common.http,
            database: common.database,
            nats: common.nats,
            auth: common.auth,
            encryption: pathway_common::crypto::EncryptionSettings::with_kek_file(
                common.dir.path().join("vetting-kek.key"),
            ),
            ..Settings::default()
        };
        let clock = settings.clock.clone();
        let workers = Workers {
            consumers: false,
            sweeps: false,
            ..Workers::default()
        };
        let running = Running::start(settings, workers, common.dir).await;
        Self { running, clock }
    }

    /// Keep `text` as a clinician's text of `kind` under `id`, as vetting
    /// does when a clinician writes it.
    pub async fn keep_text(
        &self,
        id: &str,
        referral_id: &str,
        board: &str,
        kind: pathway_vetting::store::clinical_text::Kind,
        text: &str,
    ) {
        pathway_vetting::store::clinical_text::Writer {
            cipher: &self.app.cipher,
            referral_id,
            board,
            written_by: "dr-vetting",
            written_at: chrono::Utc::now(),
        }
        .insert_as(&self.db, id, kind, text)
        .await
        .expect("keep the clinician's text");
    }

    /// The clinician's text kept under `id`, if any.
    pub async fn text(&self, id: &str) -> Option<String> {
        pathway_vetting::store::clinical_text::by_ids(&self.db, &self.app.cipher, &[id.to_owned()])
            .await
            .expect("read vetting's texts")
            .pop()
            .map(|t| t.text)
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("vetting answers")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("vetting answers")
    }

    /// POST with no body (claim, release).
    pub async fn post_empty(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("vetting answers")
    }

    /// The worklist as `token` sees it.
    pub async fn worklist(&self, token: &str, board: &str, query: &str) -> Value {
        let response = self
            .get(&format!("/v1/boards/{board}/worklist{query}"), token)
            .await;
        assert_eq!(response.status(), 200, "worklist of {board}");
        response.json().await.expect("a worklist")
    }

    /// Every row of the worklist as `token` sees it, following the pages
    /// (`query` starts with `?`, or is empty).
    pub async fn worklist_all(&self, token: &str, board: &str, query: &str) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let separator = if query.is_empty() { "?" } else { "&" };
            let page_query = match &after {
                Some(after) => format!("{query}{separator}limit=500&after={after}"),
                None => format!("{query}{separator}limit=500"),
            };
            let page = self.worklist(token, board, &page_query).await;
            rows.extend(page["referrals"].as_array().cloned().unwrap_or_default());
            match page["next_after"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => return rows,
            }
        }
    }

    /// Wait until referral `id` is on `board`'s worklist and return its row.
    pub async fn wait_for_referral(&self, board: &str, id: &str) -> Value {
        let token = token_with_key(
            &self.app.platform.auth,
            "wait-clinician",
            Role::Clinician,
            &[board],
        );
        let row = eventually(Duration::from_secs(10), || async {
            let rows = self
                .worklist_all(
                    &token,
                    board,
                    "?status=awaiting_vetting,in_vetting,info_requested,vetted,withdrawn,closed",
                )
                .await;
            rows.into_iter().find(|r| r["referral_id"] == id)
        })
        .await;
        row.unwrap_or_else(|| panic!("referral {id} never reached the {board} worklist"))
    }

    /// Wait until referral `id` has `status` on the worklist.
    pub async fn wait_for_status(&self, board: &str, id: &str, status: &str) -> Value {
        let found = eventually(Duration::from_secs(10), || async {
            let row = self.wait_for_referral(board, id).await;
            (row["status"] == status).then_some(row)
        })
        .await;
        found.unwrap_or_else(|| panic!("referral {id} never reached the status {status}"))
    }
}

/// A token signed by `authenticator` (the local key a test stack shares).
pub fn token_with_key(
    authenticator: &Authenticator,
    subject: &str,
    role: Role,
    boards: &[&str],
) -> String {
    crate::signed_token(
        authenticator,
        subject,
        role,
        boards,
        Some(format!("Dr {subject}")),
    )
}
