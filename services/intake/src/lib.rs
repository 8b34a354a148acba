//! Pathway intake: referrals as received (the only store of patient
//! identifiers), the board registry and each board's switch onto the remote
//! pathway.
//!
//! - [`domain`]: pure rules — boards, CHI numbers, postcodes, what a valid
//!   referral is, de-identified attributes, the status machine.
//! - [`application`]: the handlers — validate, decide, save with history,
//!   audit and outbox in one transaction.
//! - Adapters: [`http`] (the referral and board API), [`rpc`] (identifiable
//!   data for other services over NATS), [`consumer`] (status from other
//!   services' events), [`db`] (tables and migrations).
//! - [`startup`]: the [`startup::Application`] that `main` and tests run.

pub mod application;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod http;
pub mod rpc;
pub mod settings;
pub mod startup;
