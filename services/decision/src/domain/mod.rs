//! The decision service's rules, free of I/O: what a valid outcome is for a
//! board, the dates a decision sets (target date, opt-in deadline), how a
//! referral's decisions form one chain of supersession, and the life of a
//! patient's opt-in window.

mod chain;
mod opt_in;
mod outcome;

pub use chain::{ChainError, ChainLink, Placement, chain_of, place};
pub use opt_in::{
    IllegalTransition, OptIn, OptInRefused, WindowEvent, WindowState, opt_in, reminder_at,
};
pub use outcome::{Mode, Outcome, OutcomeError, Priority, RejectionReason};
