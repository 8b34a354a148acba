//! Pathway decision: vetting outcomes become immutable decisions. A
//! correction is a new decision that supersedes the current one; an accept
//! gets a target date from its priority; a patient opt-in opens a window the
//! patient may opt back in within, and a window that passes closes the
//! referral.
//!
//! - [`domain`]: pure rules — what a valid outcome is for a board, the dates
//!   a decision sets, the chain of supersession, the opt-in window's states.
//! - [`application`]: one use case a file — record an outcome, supersede,
//!   an opt-in, the sweep of lapsed windows, the look-up —
//!   and the service's [`application::Error`].
//! - [`store`]: the tables (a module each, with their queries) and the migrations.
//! - [`web`]: the HTTP API, its response types and the one mapping of
//!   errors to HTTP.
//! - [`consumer`]: the inbox handler (vetting outcomes, opt-ins, and board
//!   settings, kept by the shared `pathway_common::board_settings`).
//! - [`intake`]: who sent a referral, asked of intake over NATS request/reply.
//! - [`settings`], [`startup`]: what this service adds to the shared start-up.

pub mod application;
pub mod consumer;
pub mod domain;
pub mod intake;
pub mod settings;
pub mod startup;
pub mod store;
pub mod web;
