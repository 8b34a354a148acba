//! The patient's opt-in window after a `patient_opt_in` decision: a small
//! state machine where an illegal transition is an error value. A window is
//! open until the patient opts back in, its deadline passes, or a correction
//! supersedes its decision; each of those ends it for good.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// Where an opt-in window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Waiting for the patient.
    Open,
    /// The patient opted back in: the referral returns to the worklist.
    OptedIn,
    /// The deadline passed without an opt-in: the referral is closed.
    #[serde(rename = "opt_in_window_passed")]
    Lapsed,
    /// A correction replaced the decision that opened it.
    Superseded,
}

/// Something that happens to an open window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEvent {
    OptedIn,
    Lapsed,
    Superseded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an opt-in window that is {from} cannot be {event}")]
pub struct IllegalTransition {
    pub from: WindowState,
    pub event: WindowEvent,
}

impl WindowState {
    pub const ALL: [WindowState; 4] = [
        WindowState::Open,
        WindowState::OptedIn,
        WindowState::Lapsed,
        WindowState::Superseded,
    ];

    /// The name the APIs and the `referral.closed` reason use.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Open => "open",
            WindowState::OptedIn => "opted_in",
            WindowState::Lapsed => "opt_in_window_passed",
            WindowState::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Every state but `Open` ends the window for good.
    pub fn is_terminal(self) -> bool {
        self != WindowState::Open
    }

    /// The state after `event`, or why it cannot happen.
    pub fn apply(self, event: WindowEvent) -> Result<WindowState, IllegalTransition> {
        match (self, event) {
            (WindowState::Open, WindowEvent::OptedIn) => Ok(WindowState::OptedIn),
            (WindowState::Open, WindowEvent::Lapsed) => Ok(WindowState::Lapsed),
            (WindowState::Open, WindowEvent::Superseded) => Ok(WindowState::Superseded),
            (from, event) => Err(IllegalTransition { from, event }),
        }
    }
}

impl WindowEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowEvent::OptedIn => "opted in",
            WindowEvent::Lapsed => "lapsed",
            WindowEvent::Superseded => "superseded",
        }
    }
}

impl std::fmt::Display for WindowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for WindowEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a patient's opt-in does to a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptIn {
    /// The window was open and the opt-in came in time: it ends as opted in.
    Accepted,
    /// The window already ended by this same opt-in (a redelivery): nothing to do.
    AlreadyOptedIn,
}

/// Why an opt-in cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptInRefused {
    #[error("the opt-in window had already ended ({0})")]
    Ended(WindowState),
    #[error("opted in at {at}, after the window closed at {deadline}")]
    TooLate {
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    },
}

/// Decide what an opt-in at `at` does to a window in `state` that closes at
/// `deadline` (deciding, apart from [`WindowState::apply`] recording it).
pub fn opt_in(
    state: WindowState,
    at: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Result<OptIn, OptInRefused> {
    match state {
        WindowState::OptedIn => Ok(OptIn::AlreadyOptedIn),
        WindowState::Lapsed | WindowState::Superseded => Err(OptInRefused::Ended(state)),
        WindowState::Open if at > deadline => Err(OptInRefused::TooLate { at, deadline }),
        WindowState::Open => Ok(OptIn::Accepted),
    }
}

/// When the patient of a window opened at `opened_at` that closes at
/// `deadline` is reminded: `days` before the close, but never before the
/// window's halfway point, so a short window still gives the patient time
/// after the first message. None when the board sends no reminder (0 days).
pub fn reminder_at(
    opened_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    days: u32,
) -> Option<DateTime<Utc>> {
    if days == 0 || deadline <= opened_at {
        return None;
    }
    let halfway = opened_at + (deadline - opened_at) / 2;
    let before = deadline - TimeDelta::days(i64::from(days));
    Some(before.max(halfway))
}

#[cfg(test)]
#[path = "tests/opt_in.rs"]
mod tests;
