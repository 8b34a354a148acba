//! Pathway intake: referrals as received (the only store of patient
//! identifiers), the board registry and each board's switch onto the remote
//! pathway.
//!
//! - [`domain`]: pure rules — CHI numbers, postcodes, what a valid referral
//!   is, de-identified attributes, the status machine.
//! - [`application`]: the use cases, one file each — load, decide, save with
//!   history, audit and outbox in one transaction; its own [`application::Error`].
//! - [`store`]: tables, migrations and the queries the use cases and the
//!   consumer share.
//! - [`web`]: the referral and board API, the home page, the OpenAPI
//!   document, and the one place errors become HTTP.
//! - [`consumer`]: status from other services' events.
//! - [`rpc`]: identifiable data for other services over NATS request/reply.
//! - [`settings`], [`startup`]: what intake declares to the shared start-up
//!   sequence; [`startup::Application`] is what `main` and the tests run.

pub mod application;
pub mod consumer;
pub mod domain;
pub mod rpc;
pub mod settings;
pub mod startup;
pub mod store;
pub mod web;
