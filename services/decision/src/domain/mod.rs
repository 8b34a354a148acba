//! The decision service's rules, free of I/O: what a valid outcome is for a
//! board, the dates a decision sets (target date, opt-in deadline), and how a
//! referral's decisions form one chain of supersession.

mod chain;
mod outcome;

pub use chain::{ChainError, ChainLink, Placement, chain_of, place};
pub use outcome::{Mode, Outcome, OutcomeError, Priority, RejectionReason};
