//! Analytics' store: one de-identified fact per referral, and each board's
//! pathway changes and settings changes (all kept, for adoption dates and
//! calendars). The consumer and the application both read and write through
//! it.
//!
//! - Entities, a module per table: [`fact`], [`metric_counter`],
//!   [`pathway_change`], [`settings_change`].
//! - [`migrations`]: the [`Migrator`].
//! - Queries: [`facts`] (a fact to and from its row, loading, saving,
//!   clearing) and [`boards`] (the boards' histories, and what a metrics
//!   query needs of them), [`aggregates`] (the metrics' counters, kept with
//!   the facts), [`batch`] (what the consumer keeps for one batch and
//!   writes at its end), [`re_referrals`] (the re-referrals a referral
//!   closed with advice keeps, worked out from its patient's facts), [`snapshots`] (the facts kept with the stream
//!   sequence they hold, for a rebuild to start from; tables
//!   [`fact_snapshot`] and [`fact_snapshot_row`]), [`daily_summary`] (each
//!   board's summary of a day, once published, and what it reads).

pub mod aggregates;
pub mod batch;
pub mod boards;
pub mod daily_summary;
pub mod fact;
pub mod fact_snapshot;
pub mod fact_snapshot_row;
pub mod facts;
pub mod metric_counter;
pub mod migrations;
pub mod pathway_change;
pub mod re_referrals;
pub mod settings_change;
pub mod snapshots;

pub use migrations::Migrator;
