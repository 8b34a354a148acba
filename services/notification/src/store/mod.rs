//! The notification service's database: its tables (a module per table),
//! their migrations, and the row functions the use cases and the consumer
//! share.
//!
//! - [`delivery`]: one message to one recipient on one channel, and its
//!   status as stored; [`deliveries`]: reading, taking and finishing them,
//!   each update only if the row is still as it was read; [`encrypted`]:
//!   their address and words, encrypted at rest.
//! - [`ending`]: a referral's ending, closed (`referral.closed`) once every
//!   delivery it caused has ended; [`endings`]: keeping and closing them.
//! - [`board_notification`]: each board's latest notification settings;
//!   [`boards`]: reading and keeping them.
//! - [`retention`]: emptying messages past the board's retention period.
//! - [`patients`]: emptying a referral's messages when its patient's data
//!   is erased, and what each erasure emptied.
//! - [`migrations`]: the [`Migrator`].

pub mod board_notification;
pub mod boards;
pub mod deliveries;
pub mod delivery;
pub mod encrypted;
pub mod ending;
pub mod endings;
pub mod migrations;
pub mod patients;
pub mod retention;

pub use migrations::Migrator;
