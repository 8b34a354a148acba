//! Analytics' store: one de-identified fact per referral, and each board's
//! pathway changes and settings changes (all kept, for adoption dates and
//! calendars). The consumer and the application both read and write through
//! it.
//!
//! - Entities, a module per table: [`fact`], [`pathway_change`], [`settings_change`].
//! - [`migrations`]: the [`Migrator`].
//! - Queries: [`facts`] (a fact to and from its row, loading, saving,
//!   clearing) and [`boards`] (the boards' histories, and what a metrics
//!   query needs of them).

pub mod boards;
pub mod fact;
pub mod facts;
pub mod migrations;
pub mod pathway_change;
pub mod settings_change;

pub use migrations::Migrator;
