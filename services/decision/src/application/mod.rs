//! The decision service's use cases, one file each: load, decide with the
//! domain, save the decision, its audit row and its events (outbox) in one
//! transaction. Each returns [`Error`] or a domain outcome; the consumer
//! turns an [`Error`] into an ack, the web layer into an HTTP answer.
//!
//! - [`record`]: `vetting.completed` becomes a decision (and opens the
//!   patient's opt-in window for a `patient_opt_in`).
//! - [`supersede`]: where a new outcome goes in the referral's chain; a
//!   correction supersedes the current decision and ends its window.
//! - [`opt_in`]: `referral.opted_in` ends a window as opted in.
//! - [`remind`]: windows whose reminder is due remind their patient, once.
//! - [`sweep`]: windows whose deadline passed close their referrals.
//! - [`look_up`]: a referral's decisions for the API.
//! - [`audit`]: a board's audit trail for its admins.

use chrono::{DateTime, Utc};
use pathway_common::audit::TrailError;
use pathway_common::auth::AuthError;
use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_common::platform::Platform;
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use pathway_proto::v1::Event;
use sea_orm::DbErr;
use uuid::Uuid;

use crate::store::board_settings::SettingsError;

pub mod audit;
pub mod look_up;
pub mod opt_in;
pub mod record;
pub mod remind;
pub mod retention;
pub mod supersede;
pub mod sweep;
mod texts;

pub use look_up::{History, Recorded, RecordedOptIn, RecordedOutcome};

/// The decision service's state: what every use case works with.
#[derive(Clone)]
pub struct Decisions {
    pub platform: Platform,
    pub intake: IntakeClient,
    /// Reads the clinicians' texts of decisions from vetting, which keeps them.
    pub texts: pathway_common::clinical_text_client::ClinicalTextClient,
}

impl Decisions {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields of the event or request that are missing or malformed, all of them.
    #[error("{}", pathway_common::validation::describe(.0))]
    Validation(Vec<FieldError>),
    /// What was asked breaks a rule of the domain (a second outcome not
    /// marked as a correction, an opt-in after the deadline): it never will
    /// happen, however often it is asked.
    #[error("{0}")]
    Refused(String),
    /// The caller's role or boards do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// No decision on the referral that the caller may see: the same answer
    /// whether there is none or it is not theirs, so that nobody can probe.
    #[error("no decision for referral {referral_id} that this token may see")]
    NotFound { referral_id: Uuid },
    /// Something changed while this was handled: the same request may
    /// succeed when tried again.
    #[error("{0}")]
    Conflict(String),
    /// Intake cannot say now who sent a referral.
    #[error("{0}, so the referral's referrer cannot be checked now")]
    ReferrerCheckUnavailable(&'static str),
    /// Something this service depends on did not answer; nothing was changed.
    #[error("{what} did not answer")]
    Unavailable {
        what: &'static str,
        #[source]
        cause: anyhow::Error,
    },
    /// A fault of ours.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        if pathway_common::db::is_unavailable(&error) {
            Self::Unavailable {
                what: "the database",
                cause: error.into(),
            }
        } else {
            Self::Unexpected(error.into())
        }
    }
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Forbidden(why) => Self::Forbidden(why),
            other => Self::Unexpected(other.into()),
        }
    }
}

impl From<TrailError> for Error {
    fn from(error: TrailError) -> Self {
        match error {
            TrailError::Forbidden(error) => error.into(),
            TrailError::Database(error) => error.into(),
        }
    }
}

impl From<SettingsError> for Error {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Database(error) => error.into(),
            SettingsError::Unreadable(error) => Self::Unexpected(error),
        }
    }
}

impl From<IntakeError> for Error {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Unavailable(why) => Self::ReferrerCheckUnavailable(why),
            // Intake refusing decision's own token is a fault of ours (its
            // configuration), not the caller's.
            refused @ IntakeError::Refused { .. } => {
                Self::Unexpected(anyhow::Error::new(refused).context("reading the referrer"))
            }
            IntakeError::NoToken(error) => Self::Unexpected(error),
            // `intake::referrer_of` answers these as an unknown referrer.
            held @ (IntakeError::Erased | IntakeError::Restricted) => {
                Self::Unexpected(anyhow::Error::new(held).context("reading the referrer"))
            }
        }
    }
}

/// Fields of an event parsed one by one, every failure kept so that the
/// dead letter names them all.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn take<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|e| self.0.push(e)).ok()
    }

    /// The failures kept: called once a field came back empty.
    fn into_error(self) -> Error {
        Error::Validation(self.0)
    }
}

/// The event's referral id, a UUID.
fn referral_of(event: &Event) -> Result<Uuid, FieldError> {
    Uuid::parse_str(&event.referral_id).map_err(|_| {
        FieldError::new(
            "referral_id",
            format!("{:?} is not a UUID", event.referral_id),
        )
    })
}

/// The event's board, one of the territorial boards.
fn board_of(event: &Event) -> Result<BoardCode, FieldError> {
    if event.board.trim().is_empty() {
        return Err(FieldError::new("board", "missing"));
    }
    BoardCode::parse(&event.board).map_err(|why| FieldError::new("board", why))
}

/// When the event happened.
fn occurred_at(event: &Event) -> Result<DateTime<Utc>, FieldError> {
    event
        .occurred_at()
        .ok_or_else(|| FieldError::new("occurred_at", "missing or not a valid time"))
}

fn some_text(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}
