//! The vetting service: each board's worklist of referrals waiting for a
//! specialist clinician, claims (leases), questions to the referrer, and
//! the outcome the clinician records, published as `vetting.completed` for
//! the decision service. It serves the clinician web pages too.

pub mod application;
pub mod clock;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod http;
pub mod settings;
pub mod startup;
pub mod ui;
