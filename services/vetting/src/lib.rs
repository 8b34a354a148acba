//! The vetting service: each board's worklist of referrals waiting for a
//! specialist clinician, claims (leases), questions to the referrer, and
//! the outcome the clinician records, published as `vetting.completed` for
//! the decision service. It serves the clinician web pages too.
//!
//! - [`domain`]: pure rules: the worklist status and its transitions, claims
//!   and leases, outcomes, questions, the wait on the board's calendar.
//! - [`application`]: one use case a file (claim, release, request
//!   information, record or correct an outcome, the worklist, a referral, the
//!   lease sweep, the audit trail) and the service's [`application::Error`].
//! - [`store`]: the tables, their row functions and the migrations.
//! - [`consumer`]: keeps the worklist in step with `referral.*` and `board.*`.
//! - [`intake`]: the referral's identifiable content, read from intake over
//!   its typed look-up.
//! - [`rpc`]: clinicians' free text, served by id over request/reply to the
//!   services that need it (events carry only the ids), each read audited.
//! - [`web`]: the JSON API, the clinician pages, and the one place errors
//!   become HTTP.
//! - [`clock`]: the service's idea of now, which tests move forward.
//! - [`settings`], [`startup`]: what vetting adds to the shared start-up.

pub mod application;
pub mod clock;
pub mod consumer;
pub mod domain;
pub mod intake;
pub mod rpc;
pub mod settings;
pub mod startup;
pub mod store;
pub mod web;
