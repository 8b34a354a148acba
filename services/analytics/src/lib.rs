//! Pathway analytics: the evaluators' numbers. A durable consumer reads
//! every event from the start of the stream and keeps one de-identified fact
//! per referral (board, route, attributes, each milestone's time, outcome)
//! and each board's adoption dates and settings; the API computes the
//! metrics from those facts for any boards, dates and grouping, with small
//! numbers suppressed, as JSON or CSV, and a dashboard draws them. Each
//! morning it also counts the day before for every board that asked, and
//! publishes those counts (`analytics.daily_summary`) for notification to
//! e-mail to the board's service manager.
//!
//! - [`domain`]: pure rules — facts and how events change them, the baseline
//!   file, periods, waits in working days with pauses, the metrics, a
//!   board's daily counts, disclosure control, the rebuild's states and
//!   where it starts.
//! - [`application`]: the service's state and its use cases — a metrics
//!   query, a baseline import, a snapshot of the facts, a rebuild from the
//!   latest one, the daily summaries — and their [`application::Error`].
//! - [`store`]: the tables, their migrations and their queries.
//! - [`consumer`]: the durable `analytics` consumer, recording each event.
//! - [`web`]: the metrics API, CSV, baseline import, rebuild, OpenAPI and the
//!   dashboard pages; the one place errors become HTTP.
//! - [`settings`], [`startup`]: what the shared start-up sequence needs of
//!   analytics (the daily snapshot among its background work), and the
//!   offline rebuild and snapshot.

pub mod application;
pub mod consumer;
pub mod domain;
pub mod settings;
pub mod startup;
pub mod store;
pub mod web;
