//! Pathway notification: when a decision is recorded, the referrer, the
//! patient and (for an onward referral) the receiving service are told; when
//! a clinician asks for more information, the referrer is asked. Each message
//! is a delivery, planned in the consumer's transaction and sent exactly once
//! to the outside world: the delivery id is the gateway's reference, and a
//! send in doubt is looked up before it is ever sent again.
//!
//! - [`domain`]: pure rules — who is told, on which channel, with which template.
//! - [`templates`]: the messages (minijinja), checked at start-up.
//! - [`boards`]: each board's channels and templates, from its board
//!   settings as they change, or this service's configuration.
//! - [`application`]: the handlers — plan deliveries in the inbox
//!   transaction; the sender with its retries; the delivery look-ups.
//! - Adapters: [`consumer`] (decisions, questions to the referrer, board
//!   settings), [`channels`] (Notify, SMTP, signed webhooks, the local folder), [`intake`]
//!   (contact details over NATS request/reply), [`http`] (the delivery API),
//!   [`db`] (the deliveries table).
//! - [`startup`]: the [`startup::Application`] that `main` and tests run.

pub mod application;
pub mod boards;
pub mod channels;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod http;
pub mod intake;
pub mod settings;
pub mod startup;
pub mod templates;
