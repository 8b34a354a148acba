//! The decision service's tables, a module each with its queries, and the
//! migrations that create them. The application and the consumer both read
//! and write through here; nothing here decides anything.
//!
//! - [`decision`]: decisions, inserted and never updated.
//! - [`opt_in_window`]: each patient-opt-in decision's window, and how it ended.
//! - [`retention`]: what the retention sweep removes, for finished referrals.
//! - [`board_settings`]: each board's latest settings document (the shared
//!   `pathway_common::board_settings`, which vetting keeps too).
//! - [`migrations`]: the [`Migrator`].

pub mod decision;
pub mod migrations;
pub mod opt_in_window;
pub mod retention;

pub use migrations::Migrator;
pub use pathway_common::board_settings;
