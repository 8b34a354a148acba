//! How a referral ends, as far as telling people goes: a withdrawal, an
//! opt-in window that passed, a decline, a redirect. Each one's deliveries
//! (and a redirect's hand-off) must all have ended — sent, or failed and on
//! the board's failed deliveries — before the referral is `closed`.

use super::plan::Cause;

/// An ending, named as `referral.closed` names its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Withdrawn,
    OptInWindowPassed,
    Declined,
    Redirected,
}

impl Ending {
    /// The `referral.closed` reason.
    pub fn reason(self) -> &'static str {
        match self {
            Ending::Withdrawn => "withdrawn",
            Ending::OptInWindowPassed => "opt_in_window_passed",
            Ending::Declined => "declined",
            Ending::Redirected => "redirected",
        }
    }

    /// The ending `cause` is, if it ends the referral: a decision that
    /// keeps the referral with a service (an appointment, a programme, the
    /// patient asked to opt in) is not one.
    pub fn of_cause(cause: &Cause) -> Option<Self> {
        match cause {
            Cause::Withdrawn { .. } => Some(Ending::Withdrawn),
            Cause::OptInClosed => Some(Ending::OptInWindowPassed),
            Cause::Decision(facts) => Self::of_outcome(&facts.outcome),
            Cause::InformationRequest { .. } | Cause::OptInReminder { .. } => None,
        }
    }

    /// The ending a decision with `outcome` is, if any.
    pub fn of_outcome(outcome: &str) -> Option<Self> {
        match outcome {
            "decline" => Some(Ending::Declined),
            "redirect" => Some(Ending::Redirected),
            _ => None,
        }
    }
}

/// Whether everyone an ending had to tell has been: none of its deliveries
/// is still `planned` or `sending` (a failed one counts, for it is on the
/// board's failed deliveries).
pub fn everyone_told(statuses: impl IntoIterator<Item = super::Status>) -> bool {
    statuses.into_iter().all(super::Status::is_final)
}

#[cfg(test)]
#[path = "tests/ending.rs"]
mod tests;
