//! Intake's use cases, one file each: load, decide with the domain, and save
//! the change, its history, its audit row and its events (outbox) in one
//! transaction. They answer outcomes and [`Error`], never HTTP.
//!
//! - [`referrals`]: submit, read, withdraw, provide information.
//! - [`boards`]: the boards, their switch onto the pathway, their settings.
//! - [`lookup`]: the identifiable referral other services ask for.
//! - [`appointments`]: first appointments the hospital system reports.
//! - [`subscriptions`]: FHIR Subscriptions to Tasks, and their delivery.
//! - [`patients`]: a patient's erasure and restriction requests.
//! - [`retention`]: the sweep that removes referrals past the board's
//!   retention period, and old audit rows.

use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::AuthError;
use pathway_common::auth::Caller;
use pathway_common::platform::Platform;
use pathway_common::validation::FieldError;
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::referral::RejectionReason;
use crate::domain::{Status, Transition};

pub mod appointments;
pub mod boards;
pub mod lookup;
pub mod patients;
pub mod referrals;
pub mod retention;
pub mod subscriptions;

/// Intake's state: the platform it runs on, the key of the patient
/// pseudonym, the cipher of the identifiable columns and what the patient's
/// opt-in links are made with.
#[derive(Clone)]
pub struct Intake {
    pub platform: Platform,
    pub pseudonym_key: Vec<u8>,
    pub cipher: pathway_common::crypto::FieldCipher,
    pub opt_in: referrals::OptInLinks,
    /// Reads the clinicians' questions from vetting, which keeps them.
    pub texts: pathway_common::clinical_text_client::ClinicalTextClient,
}

impl Intake {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }

    /// A transaction whose reads all see one snapshot (REPEATABLE READ on
    /// PostgreSQL; a SQLite transaction already does), so that a referral's
    /// status, history and appointments read together agree with each other
    /// while the consumer commits.
    async fn snapshot(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{DatabaseBackend, IsolationLevel, TransactionTrait as _};
        let isolation = (self.db().get_database_backend() == DatabaseBackend::Postgres)
            .then_some(IsolationLevel::RepeatableRead);
        self.db().begin_with_config(isolation, None).await
    }
}

/// Why a use case did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields the caller sent wrong, every one of them.
    #[error("{} field(s) not valid", .0.len())]
    Validation(Vec<FieldError>),
    /// A referral that is not valid, with the reason a GP system records.
    #[error("the referral is {}: {} field(s) not valid", .reason.description(), .fields.len())]
    Rejected {
        reason: RejectionReason,
        fields: Vec<FieldError>,
    },
    /// The patient already has an open referral with the board.
    #[error("the patient already has an open referral with this board")]
    Duplicate { open_referral: OpenReferral },
    /// The same Idempotency-Key came with another body.
    #[error("this Idempotency-Key was used for a different referral")]
    IdempotencyKeyReused,
    /// Another request with the same Idempotency-Key kept winning the race.
    #[error("another request with this Idempotency-Key is in progress")]
    Concurrent,
    /// The referral changed since the caller read it (`If-Match`).
    #[error("the referral has changed since it was read: it is now version {current_version}")]
    Stale { current_version: i64 },
    #[error("the referral id must be a UUID")]
    MalformedId,
    /// No such thing that this caller may see.
    #[error("{0}")]
    NotFound(String),
    /// The board code is not one of the 14.
    #[error("{0}")]
    UnknownBoard(String),
    #[error(transparent)]
    Forbidden(AuthError),
    /// The referral's status does not allow this.
    #[error("a referral that is {from} cannot be {}", .transition.as_str())]
    IllegalTransition {
        from: Status,
        transition: Transition,
    },
    /// The patient's data was erased at their request.
    #[error("the patient's data on this referral was erased at their request")]
    Erased,
    /// Processing is restricted at the patient's request.
    #[error("processing of this referral is restricted at the patient's request")]
    Restricted,
    /// Information may be given only while a request for it is open.
    #[error("no open information request on this referral")]
    NoOpenInformationRequest,
    /// The database did not answer; the same request may succeed later.
    #[error("the database did not answer")]
    Unavailable(#[source] anyhow::Error),
    /// Our own fault.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// The open referral a duplicate ran into, as far as the caller may know it.
///
/// Only the referrer who sent it learns which referral it is: any other
/// referrer of the board learns that one is open, and nothing about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenReferral {
    /// The caller sent it: its id, to follow that one.
    Yours(String),
    /// Another referrer sent it.
    NotYours,
}

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        if pathway_common::db::is_unavailable(&error) {
            Self::Unavailable(error.into())
        } else {
            Self::Unexpected(error.into())
        }
    }
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        Self::Forbidden(error)
    }
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Self::Unexpected(error)
    }
}

/// One audit row for `caller` acting on a referral.
async fn audit_referral<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    action: &str,
    referral_id: &str,
    board: &str,
    purpose: &str,
) -> Result<(), DbErr> {
    audit::record(
        db,
        AuditEntry {
            actor: &caller.subject,
            actor_role: caller.role.as_str(),
            action,
            referral_id: Some(referral_id.to_owned()),
            board: Some(board),
            source: &caller.source,
            purpose: Some(purpose),
        },
    )
    .await
}
