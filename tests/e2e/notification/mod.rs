//! Notification, black-box: the real service beside a real intake (the
//! contact details come from there over NATS request/reply), a real
//! nats-server, real databases (SQLite always, PostgreSQL when one answers),
//! and two real HTTP servers the test starts: one answering as GOV.UK
//! Notify's API does (checking the JWT and the body), one taking webhooks as
//! a GP system would (checking the signature); and a real SMTP server. Decisions and questions are
//! published onto the stream by hand, as decision and vetting would.
//!
//! One module per topic, the shared set-up here: `channels` (SMS, webhook,
//! the patient's preference, no gateway at all), `referrer` (questions and
//! direct referrals), `information_reminder` (a question unanswered past the
//! board's working days: the referrer reminded, once), `retries` (failures, refusals and sends in doubt, never
//! twice), `outage` (intake away for a while: decisions wait, never
//! dead-lettered, and are sent once it is back), `callbacks` (the gateway's delivery receipts), `smtp` (e-mail over
//! a real SMTP server), `board_settings` (channels and templates changed
//! without a restart), `accounts` (each board's own Notify account),
//! `daily_summary` (a board's counts of yesterday e-mailed to its service
//! manager, once a day), `limits` (template fuel and output limits, the sink's file modes, pages
//! of deliveries), `outbound` (no redirects, capped answers, private
//! addresses only where a board allows them), `allow_list` (webhooks only to
//! the hosts a board listed), `signatures` (Ed25519, verified with the
//! published key), `retention` (messages' words and audit rows removed
//! after the board's periods), `handoff` (referrals the pathway does not take, and
//! redirects, forwarded to the board's standard or paediatric route), `handoff_fhir`
//! (the same to a FHIR route, as a transaction Bundle) and
//! `withdrawal` (the referrer's confirmation, and the patient told where the
//! board says so), `accessibility` (large print, easy read and Gaelic
//! messages; interpreters booked by the receiving service), and `closing`
//! (`referral.closed` only once everyone an ending had to tell has been
//! told).

mod accessibility;
mod accounts;
mod allow_list;
mod board_settings;
mod callbacks;
mod channels;
mod closing;
mod daily_summary;
mod handoff;
mod handoff_fhir;
mod information_reminder;
mod limits;
mod max_deliveries;
mod outage;
mod outbound;
mod referrer;
mod retention;
mod retries;
mod signatures;
mod smtp;
mod withdrawal;

use pathway_notification::startup::Workers;
use pathway_proto::v1 as proto;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver};

fn accept() -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    }
}

struct Setup {
    intake: IntakeApp,
    gateway: NotifyGateway,
    receiver: WebhookReceiver,
    app: TestApp,
}

async fn setup(backend: &pathway_tests::Backend, workers: Workers) -> Setup {
    let intake = IntakeApp::spawn(backend).await;
    intake.enable_board("highland").await;
    let gateway = NotifyGateway::start().await;
    let receiver = WebhookReceiver::start().await;
    let app = TestApp::spawn(backend, &intake, &gateway, &receiver, workers).await;
    Setup {
        intake,
        gateway,
        receiver,
        app,
    }
}

impl Setup {
    async fn stop(mut self) {
        self.app.stop().await;
        self.intake.stop().await;
    }
}

fn patient(
    rows: &[pathway_notification::store::delivery::Model],
) -> &pathway_notification::store::delivery::Model {
    rows.iter()
        .find(|r| r.recipient == "patient")
        .expect("a delivery to the patient")
}
