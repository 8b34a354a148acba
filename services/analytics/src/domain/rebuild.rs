//! Where the running service's rebuild is: a small state machine where an
//! illegal transition is an error value. A rebuild begins only when none is
//! running, and only a running one finishes or fails; a finished or failed
//! one may be followed by another.

use serde::Serialize;

/// Where the running service's rebuild is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    /// No rebuild since the service started.
    Idle,
    Running,
    Done,
    Failed,
}

/// Something that happened to a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildTransition {
    Began,
    Finished,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rebuild that is {from} cannot be {transition}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub transition: &'static str,
}

impl RebuildState {
    pub const ALL: [RebuildState; 4] = [
        RebuildState::Idle,
        RebuildState::Running,
        RebuildState::Done,
        RebuildState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RebuildState::Idle => "idle",
            RebuildState::Running => "running",
            RebuildState::Done => "done",
            RebuildState::Failed => "failed",
        }
    }

    /// The state after `transition`, or why it cannot happen now.
    pub fn apply(self, transition: RebuildTransition) -> Result<RebuildState, IllegalTransition> {
        use RebuildState as S;
        use RebuildTransition as T;
        match (self, transition) {
            (S::Idle | S::Done | S::Failed, T::Began) => Ok(S::Running),
            (S::Running, T::Finished) => Ok(S::Done),
            (S::Running, T::Failed) => Ok(S::Failed),
            (from, transition) => Err(IllegalTransition {
                from: from.as_str(),
                transition: transition.as_str(),
            }),
        }
    }
}

impl RebuildTransition {
    pub const ALL: [RebuildTransition; 3] = [
        RebuildTransition::Began,
        RebuildTransition::Finished,
        RebuildTransition::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RebuildTransition::Began => "begun",
            RebuildTransition::Finished => "finished",
            RebuildTransition::Failed => "failed",
        }
    }
}

#[cfg(test)]
#[path = "tests/rebuild.rs"]
mod tests;
