//! Pathway notification: when a decision is recorded, the referrer, the
//! patient and (for an onward referral) the receiving service are told; when
//! a clinician asks for more information, the referrer is asked. Each message
//! is a delivery, planned in the consumer's transaction and sent exactly once
//! to the outside world: the delivery id is the gateway's reference, and a
//! send in doubt is looked up before it is ever sent again.
//!
//! - [`domain`]: pure rules — who is told, on which channel, with which
//!   template; a board's channels; a delivery's life as a state machine.
//! - [`application`]: the use cases, one file each — plan deliveries in the
//!   inbox transaction, keep a board's settings, the sending sweep, an
//!   admin's retry, a gateway's callback, the delivery look-ups — and the
//!   service's `Error`.
//! - [`store`]: the tables, their migrations, and the row functions the use
//!   cases share.
//! - [`web`]: the delivery API and the gateway's callbacks; the one place
//!   errors become HTTP.
//! - [`consumer`]: decisions, questions to the referrer and board settings,
//!   from the stream.
//! - [`production`]: what the production profile refuses of its settings.
//! - Outbound adapters: [`channels`] (Notify, SMTP, signed webhooks, the
//!   local folder), [`intake`] (contact details over NATS request/reply),
//!   [`templates`] (the messages, checked at start-up), [`summary_template`]
//!   (the service manager's daily summary), [`boards`] (each
//!   board's channels and templates, from its settings or this service's).
//! - [`settings`], and [`startup`]: what this service adds to the start-up
//!   every service shares.

pub mod application;
pub mod boards;
pub mod channels;
pub mod consumer;
pub mod domain;
pub mod intake;
pub mod production;
pub mod settings;
pub mod startup;
pub mod store;
pub mod summary_template;
pub mod templates;
pub mod web;
