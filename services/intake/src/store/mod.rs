//! Intake's store: its tables ([`entities`], a module per table), the
//! [`Migrator`], and the queries that both the use cases and the consumer
//! run ([`queries`], [`postcodes`]); [`appointments`] holds what the
//! hospital system reported, with its table's migration; [`subscriptions`]
//! the FHIR Subscriptions and the notifications owed, with theirs;
//! [`encrypted`] the identifiable columns, encrypted at rest; [`retention`]
//! removes referrals past their board's retention period; [`patients`]
//! keeps the patients' erasure and restriction requests and scrubs an
//! erased referral.
//! Functions here take a connection or a transaction and answer `DbErr`;
//! deciding what a failure means is the caller's.

pub mod appointments;
pub mod encrypted;
mod entities;
mod migrations;
pub mod opt_in;
pub mod patients;
pub mod postcodes;
pub mod queries;
pub mod retention;
pub mod subscriptions;

pub use entities::{
    StoredRoute, StoredStatus, board_settings_change, history, idempotency, information_request,
    open_referral, pathway_change, postcode, referral,
};
pub use migrations::Migrator;
