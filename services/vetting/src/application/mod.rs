//! Vetting's use cases, one file each: load the worklist row, decide with
//! the domain's rules who may do what in which state, then save the change,
//! its audit row and its event (outbox) in one transaction. A change is saved
//! only if the row is still at the version it was read at, so two clinicians
//! racing for one referral cannot both win.
//!
//! Use cases answer with read models ([`views`]) and domain outcomes, or an
//! [`Error`]; never a status code: `web::error` alone turns errors into HTTP.

use pathway_common::audit::{self, AuditEntry, TrailError};
use pathway_common::auth::{AuthError, Caller, Role};
use pathway_common::crypto::FieldCipher;
use pathway_common::intake_client::{IntakeClient, IntakeError};
use pathway_common::outbox;
use pathway_common::platform::Platform;
use pathway_common::validation::FieldError;
use pathway_proto::v1::Event;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::claim::{Claim, Refusal};
use crate::domain::status::Status;
use crate::store::board_settings::SettingsError;
use crate::store::worklist::{self, Saved};

pub mod audit_trail;
pub mod claim;
pub mod clinical_text;
pub mod erasures;
pub mod information_reminder;
pub mod lease_sweep;
pub mod outcome;
pub mod referral;
pub mod release;
pub mod request_information;
pub mod retention;
pub mod views;
pub mod worklist_view;

pub use views::{
    ActionResult, InformationRequestView, OutcomeView, ReferralDetail, Worklist, WorklistRow,
};

/// The vetting service's state: its platform (database, NATS, outbox,
/// authenticator), its clock, its client of intake and the cipher of the
/// clinicians' free text at rest.
#[derive(Clone)]
pub struct Vetting {
    pub platform: Platform,
    pub clock: Clock,
    pub intake: IntakeClient,
    pub cipher: FieldCipher,
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields the caller sent that are missing or malformed, all of them.
    #[error("{}", pathway_common::validation::describe(.0))]
    Validation(Vec<FieldError>),
    /// The caller's role or boards do not allow this.
    #[error(transparent)]
    Forbidden(AuthError),
    /// No referral with this id on the caller's boards: the same answer
    /// whether there is none or it is another board's, so nobody can probe.
    #[error("no referral with this id on your boards' worklists")]
    NotFound,
    /// Not in this state, or not by this clinician (the domain's refusal).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Something this service depends on (its database, intake) did not
    /// answer; nothing was changed.
    #[error("{what} did not answer")]
    Unavailable {
        what: &'static str,
        #[source]
        cause: anyhow::Error,
    },
    /// The patient's data was erased at their request.
    #[error("the patient's data on this referral was erased at their request")]
    Erased,
    /// No erasure under that id has reached this service for the caller's
    /// boards (yet).
    #[error("{0}")]
    NothingErasedYet(String),
    /// Processing is restricted at the patient's request.
    #[error("processing of this referral is restricted at the patient's request")]
    Restricted,
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
            Self::Unexpected(anyhow::Error::new(error).context("a database statement failed"))
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

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        Self::Forbidden(error)
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

impl From<IntakeError> for Error {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Unavailable(why) => Self::Unavailable {
                what: "intake",
                cause: anyhow::anyhow!("the referral's content cannot be fetched: {why}"),
            },
            // Intake refusing vetting's own token is a fault of ours (its
            // configuration), not the clinician's.
            refused @ IntakeError::Refused { .. } => Self::Unexpected(
                anyhow::Error::new(refused).context("reading the referral's content"),
            ),
            IntakeError::NoToken(error) => Self::Unexpected(error),
            IntakeError::Erased => Self::Erased,
            IntakeError::Restricted => Self::Restricted,
        }
    }
}

impl Vetting {
    fn db(&self) -> &DatabaseConnection {
        &self.platform.db
    }

    /// Load a referral for a clinician of its board: anything else is "not
    /// found", so nobody learns what another board holds. One held at the
    /// patient's request is neither shown nor changed.
    async fn load<C: ConnectionTrait>(
        &self,
        db: &C,
        caller: &Caller,
        id: &str,
    ) -> Result<worklist::Model, Error> {
        caller.require_role(&[Role::Clinician])?;
        let row = worklist::find(db, id).await?.ok_or(Error::NotFound)?;
        if !caller.may_act_for(&row.board) {
            return Err(Error::NotFound);
        }
        match row.held.as_deref() {
            None => Ok(row),
            Some(crate::store::patients::HELD_ERASED) => Err(Error::Erased),
            Some(_) => Err(Error::Restricted),
        }
    }

    /// Publish `event` and audit `action` beside the change already made in
    /// `txn`, then commit: all of it or nothing.
    async fn commit_action(
        &self,
        txn: DatabaseTransaction,
        caller: &Caller,
        row: &worklist::Model,
        event: &Event,
        action: &str,
        purpose: &str,
    ) -> Result<(), Error> {
        outbox::enqueue(&txn, event).await?;
        audit_referral(&txn, caller, action, row, purpose).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        Ok(())
    }
}

/// Save `change` to `row` unless somebody changed it meanwhile: then the
/// clinician holding it now is named, or they are asked to reload.
async fn save<C: ConnectionTrait>(
    db: &C,
    row: &worklist::Model,
    now: chrono::DateTime<chrono::Utc>,
    change: worklist::Change,
) -> Result<worklist::Model, Error> {
    match worklist::save(db, row, now, change).await? {
        Saved::Saved(saved) => Ok(saved),
        Saved::Changed(current) => Err(refusal_after_race(current.as_ref()).into()),
    }
}

fn refusal_after_race(current: Option<&worklist::Model>) -> Refusal {
    match current.map(worklist::Model::claim) {
        Some(
            claim @ Claim {
                status: Status::InVetting,
                ..
            },
        ) => claim.claimed_by_another(),
        _ => Refusal::ChangedMeanwhile,
    }
}

async fn audit_referral<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    action: &str,
    row: &worklist::Model,
    purpose: &str,
) -> Result<(), DbErr> {
    audit::record(
        db,
        AuditEntry {
            actor: &caller.subject,
            actor_role: caller.role.as_str(),
            action,
            referral_id: Some(row.referral_id.clone()),
            board: Some(&row.board),
            source: &caller.source,
            purpose: Some(purpose),
        },
    )
    .await
}

fn parse_id(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id)
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("stored referral id {id:?}: {e}")))
}
