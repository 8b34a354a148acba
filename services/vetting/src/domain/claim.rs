//! Claims: a clinician holds a referral for a while (a lease) to vet it, and
//! only the holder of a live claim may act on it. A lapsed claim is as good
//! as none, even before the sweep returns the referral to the worklist.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::status::{Status, Transition};

/// A referral's status and who holds it, as a worklist row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    pub status: Status,
    /// The holder's subject.
    pub holder: Option<&'a str>,
    pub holder_name: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a clinician may not do what they asked, in this state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{holder} is vetting this referral until {}: choose another, or wait for the claim to be released or lapse",
        until.map(super::when::time).unwrap_or_default()
    )]
    ClaimedByAnother {
        /// The holder as people read it: `Dr Mackay (dr-mackay)`.
        holder: String,
        /// The holder's subject.
        claimed_by: String,
        /// When the holder's lease runs out (shown on Scotland's clock).
        until: Option<DateTime<Utc>>,
    },
    #[error("claim the referral first: POST /v1/referrals/{{id}}/claim")]
    NotClaimed,
    #[error("your claim lapsed and the referral went back to the worklist: claim it again")]
    LeaseLapsed { lapsed_at: Option<DateTime<Utc>> },
    /// Not waiting for vetting: asked, vetted, withdrawn or closed.
    #[error("{}", not_claimable(*.0))]
    NotClaimable(Status),
    #[error("an outcome is already recorded for this referral: to change it, record a correction")]
    AlreadyVetted,
    #[error("the referral is {0}: only a vetted referral's outcome can be corrected")]
    NothingToCorrect(Status),
    #[error("the referral changed while you were acting on it: reload it and try again")]
    ChangedMeanwhile,
}

fn not_claimable(status: Status) -> &'static str {
    match status {
        Status::InfoRequested => {
            "the referrer has been asked for information: the referral returns to the worklist when they answer"
        }
        Status::Vetted => "an outcome is already recorded for this referral",
        Status::Withdrawn => "the referrer withdrew this referral",
        _ => "this referral is closed",
    }
}

impl Claim<'_> {
    /// The lease has not run out.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::InVetting && self.expires_at.is_some_and(|at| at > now)
    }

    pub fn is_held_by(&self, subject: &str) -> bool {
        self.holder == Some(subject)
    }

    /// The status a clinician sees: a lapsed claim not yet swept is back on
    /// the list.
    pub fn shown_status(&self, now: DateTime<Utc>) -> Status {
        if self.status == Status::InVetting && !self.is_live(now) {
            Status::AwaitingVetting
        } else {
            self.status
        }
    }

    /// `subject` claims it, renews their own claim, or takes over one that
    /// lapsed; another clinician's live claim stands.
    pub fn claim(&self, subject: &str, now: DateTime<Utc>) -> Result<Status, Refusal> {
        if self.is_live(now) && !self.is_held_by(subject) {
            return Err(self.claimed_by_another());
        }
        self.status
            .apply(Transition::Claimed)
            .map_err(|_| Refusal::NotClaimable(self.status))
    }

    /// `subject` holds a live claim: what they need to release it, ask the
    /// referrer or record an outcome. Answers the status after `transition`.
    pub fn act(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        transition: Transition,
    ) -> Result<Status, Refusal> {
        match self.status {
            Status::InVetting => {}
            Status::AwaitingVetting => return Err(Refusal::NotClaimed),
            other => return Err(Refusal::NotClaimable(other)),
        }
        match (self.is_held_by(subject), self.is_live(now)) {
            (true, true) => {}
            (true, false) => {
                return Err(Refusal::LeaseLapsed {
                    lapsed_at: self.expires_at,
                });
            }
            (false, true) => return Err(self.claimed_by_another()),
            (false, false) => return Err(Refusal::NotClaimed),
        }
        self.status
            .apply(transition)
            .map_err(|_| Refusal::NotClaimable(self.status))
    }

    /// A recorded outcome is corrected.
    pub fn correct(&self) -> Result<Status, Refusal> {
        self.status
            .apply(Transition::Corrected)
            .map_err(|_| Refusal::NothingToCorrect(self.status))
    }

    /// Someone else holds it (the refusal when a save finds the row changed
    /// under a claim).
    pub fn claimed_by_another(&self) -> Refusal {
        let holder = match (self.holder_name, self.holder) {
            (Some(name), Some(subject)) => format!("{name} ({subject})"),
            (None, Some(subject)) => subject.to_owned(),
            _ => "nobody".into(),
        };
        Refusal::ClaimedByAnother {
            holder,
            claimed_by: self.holder.unwrap_or_default().to_owned(),
            until: self.expires_at,
        }
    }
}

/// What a clinician may do with a referral they see in `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Claim,
    Release,
    RequestInformation,
    RecordOutcome,
    CorrectOutcome,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Release => "release",
            Action::RequestInformation => "request_information",
            Action::RecordOutcome => "record_outcome",
            Action::CorrectOutcome => "correct_outcome",
        }
    }

    /// The actions open to a clinician who sees the referral `shown` and
    /// does (or does not) hold its claim.
    pub fn allowed(shown: Status, claimed_by_me: bool) -> Vec<Action> {
        match shown {
            Status::AwaitingVetting => vec![Action::Claim],
            Status::InVetting if claimed_by_me => vec![
                Action::Claim,
                Action::Release,
                Action::RequestInformation,
                Action::RecordOutcome,
            ],
            Status::Vetted => vec![Action::CorrectOutcome],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "tests/claim.rs"]
mod tests;
