//! Intake, black-box: the real service against a real nats-server and real
//! databases (SQLite always, PostgreSQL when one answers).
//!
//! One module per topic, the shared counts of rows here: `submission` (a
//! referral stored and announced), `boards` (the pathway switched per board),
//! `days` (the receipt day on Scotland's clock), `settings` (board settings),
//! `validation` (bad input), `access` (tokens and identifiable data),
//! `duplicates`, `outbox` (publishing and what the stream may carry),
//! `purposes` (what each purpose of the identifiable look-up is given),
//! `retention` (referrals removed after the board's years),
//! `inbound` (events from other services) and `service` (health, metrics,
//! OpenAPI and the README example).

mod access;
mod boards;
mod days;
mod duplicates;
mod inbound;
mod outbox;
mod purposes;
mod retention;
mod service;
mod settings;
mod settings_effective;
mod submission;
mod validation;

use pathway_tests::intake::TestApp;
use sea_orm::{EntityTrait, PaginatorTrait};

async fn referral_rows(app: &TestApp) -> u64 {
    pathway_intake::store::referral::Entity::find()
        .count(&app.db)
        .await
        .expect("count referrals")
}

async fn audit_rows(app: &TestApp, action: &str, referral_id: &str) -> usize {
    pathway_common::audit::entity::Entity::find()
        .all(&app.db)
        .await
        .expect("read audit")
        .into_iter()
        .filter(|row| row.action == action && row.referral_id.as_deref() == Some(referral_id))
        .count()
}
