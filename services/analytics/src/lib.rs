//! Pathway analytics: the evaluators' numbers. A durable consumer reads
//! every event from the start of the stream and keeps one de-identified fact
//! per referral (board, route, attributes, each milestone's time, outcome)
//! and each board's adoption dates and settings; the API computes the
//! metrics from those facts for any boards, dates and grouping, with small
//! numbers suppressed, as JSON or CSV.
//!
//! - [`domain`]: pure rules — facts and how events change them, periods,
//!   waits in working days with pauses, the metrics, disclosure control.
//! - [`application`]: recording events in the inbox transaction; answering
//!   a metrics query.
//! - Adapters: [`consumer`] (the durable `analytics` consumer), [`http`]
//!   (metrics API, CSV, OpenAPI, health), [`ui`] (the dashboard page with
//!   SVG charts), [`db`] (tables and migrations).
//! - [`startup`]: the [`startup::Application`] that `main` and tests run.
//! - [`rebuild`]: every fact again from the stream, with progress.
//! - [`baseline`]: a board's referrals from before adoption, from a CSV file.

pub mod application;
pub mod baseline;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod http;
pub mod rebuild;
pub mod settings;
pub mod startup;
pub mod ui;
