//! Vetting, black-box: intake and vetting side by side on a real nats-server
//! and real databases (SQLite always, PostgreSQL when one answers). A
//! referral goes in through intake's API and is vetted through vetting's.
//!
//! One module per topic, the shared stack here: `journey` (a referral from
//! intake to an outcome and on to a decision, and the information loop),
//! `claims` (claiming, lapsing, giving back and the worklist), `outcomes`
//! (bad outcomes, red-flag overrides, corrections), `late_events` (events
//! arriving out of order), `access` (who gets in, the audit, the pages),
//! `days` (the Scottish day a referral was received and the days it waited),
//! `information_reminder` (a question unanswered past the board's working
//! days),
//! `paging` (the worklist and the audit trail a page at a time) and
//! `retention` (what a finished referral keeps, and for how long).

mod access;
mod claims;
mod days;
mod information_reminder;
mod journey;
mod late_events;
mod outcomes;
mod paging;
mod retention;

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{set, valid_referral};
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, eventually};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

struct Stack {
    intake: TestApp,
    vetting: VettingApp,
}

impl Stack {
    async fn start(backend: &Backend) -> Self {
        let intake = TestApp::spawn(backend).await;
        intake.enable_board("highland").await;
        intake.enable_board("fife").await;
        let vetting = VettingApp::spawn(&intake, backend).await;
        Self { intake, vetting }
    }

    fn clinician(&self, name: &str) -> String {
        self.intake.token_for(name, Role::Clinician, &["highland"])
    }

    /// A referral through intake, waiting on vetting's worklist.
    async fn referral(&self, body: Value) -> String {
        let board = body["board"].as_str().unwrap_or("highland").to_owned();
        let id = self.intake.refer(&body).await;
        self.vetting.wait_for_referral(&board, &id).await;
        id
    }

    async fn claim(&self, token: &str, id: &str) -> reqwest::Response {
        self.vetting
            .post_empty(&format!("/v1/referrals/{id}/claim"), token)
            .await
    }

    async fn outcome(&self, token: &str, id: &str, body: &Value) -> reqwest::Response {
        self.vetting
            .post(&format!("/v1/referrals/{id}/outcome"), token, body)
            .await
    }

    /// Events of one kind about one referral on the stream.
    async fn events(&self, id: &str, kind: (&str, &str)) -> Vec<proto::Event> {
        self.intake
            .stream_events()
            .await
            .into_iter()
            .map(|e| e.event)
            .filter(|e| e.referral_id == id && e.kind() == Some(kind))
            .collect()
    }

    async fn wait_for_event(&self, id: &str, kind: (&str, &str)) -> proto::Event {
        let found = eventually(Duration::from_secs(10), || async {
            self.events(id, kind).await.into_iter().next()
        })
        .await;
        found.unwrap_or_else(|| panic!("no {kind:?} event for {id}"))
    }

    /// Publish `event` onto the stream as its owner would.
    async fn publish(&self, event: &proto::Event) {
        use prost::Message as _;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.as_str());
        self.intake
            .jetstream
            .publish_with_headers(
                event.subject().expect("an event with a payload"),
                headers,
                event.encode_to_vec().into(),
            )
            .await
            .expect("publish")
            .await
            .expect("the stream acknowledges");
    }

    async fn outcome_rows(&self) -> u64 {
        pathway_vetting::store::outcome::Entity::find()
            .count(&self.vetting.db)
            .await
            .expect("count outcomes")
    }

    async fn audit(&self, id: &str) -> Vec<(String, String)> {
        pathway_common::audit::entity::Entity::find()
            .all(&self.vetting.db)
            .await
            .expect("read the audit trail")
            .into_iter()
            .filter(|r| r.referral_id.as_deref() == Some(id))
            .map(|r| (r.action, r.actor))
            .collect()
    }
}

fn accept() -> Value {
    json!({
        "outcome": "accept",
        "priority": "routine",
        "mode": "video",
        "rationale": "Persistent pain despite physiotherapy: the clinic should see her."
    })
}

fn with_red_flags(board: &str) -> Value {
    let mut body = valid_referral(board);
    set(
        &mut body,
        "clinical.red_flags",
        json!(["history_of_cancer"]),
    );
    body
}
