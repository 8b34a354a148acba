//! Pathway decision: vetting outcomes become immutable decisions. A
//! correction is a new decision that supersedes the current one; an accept
//! gets a target date from its priority; a patient opt-in opens a window the
//! patient may opt back in within, and a window that passes closes the
//! referral.
//!
//! - [`domain`]: pure rules — what a valid outcome is for a board, the dates
//!   a decision sets, the chain of supersession.
//! - [`application`]: the handlers — decide, save with audit and outbox in
//!   one transaction; the opt-in sweeper; the decision look-up.
//! - Adapters: [`consumer`] (vetting outcomes, opt-ins, board settings),
//!   [`http`] (the look-up API), [`intake`] (who sent a referral, asked over
//!   NATS request/reply), [`db`] (tables and migrations).
//! - [`startup`]: the [`startup::Application`] that `main` and tests run.

pub mod application;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod http;
pub mod intake;
pub mod settings;
pub mod startup;
