//! Analytics' pure rules: no I/O.
//!
//! - [`fact`]: one de-identified fact per referral, and how each event changes it.
//! - [`first_appointment`]: the first appointment the hospital's system reported.
//! - [`baseline`]: a board's referrals from before adoption, read from its CSV file.
//! - [`period`]: weeks, months and quarters of a date range.
//! - [`waits`]: the clock from receipt to vetting, in working and calendar days, with pauses.
//! - [`metrics`]: the evaluators' metrics over a set of facts.
//! - [`phs`], [`phs_row`]: waits to first appointment as Public Health Scotland counts them.
//! - [`daily_summary`]: a board's counts for one Scottish day, for its service manager.
//! - [`disclosure`]: small-number suppression.
//! - [`practices`]: feedback to referrers, per GP practice of a board.
//! - [`publication`], [`suppression`]: the fixed quarterly tables, suppressed as one set.
//! - [`rebuild`]: where a rebuild of the facts is, as a state machine.
//! - [`snapshot`]: where a rebuild starts, from the latest snapshot of the
//!   facts, and when it must refuse rather than lose facts.

pub mod aggregates;
pub mod baseline;
pub mod daily_summary;
pub mod disclosure;
pub mod fact;
pub mod first_appointment;
pub mod metrics;
pub mod period;
pub mod phs;
pub mod phs_row;
pub mod practices;
pub mod publication;
pub mod re_referrals;
pub mod rebuild;
pub mod snapshot;
pub mod suppression;
pub mod waits;
