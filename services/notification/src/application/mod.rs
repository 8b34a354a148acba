//! The notification service's use cases, one file each:
//!
//! - [`plan`]: a decision or a question to the referrer becomes planned
//!   deliveries, in the consumer's transaction.
//! - [`handoff`]: a referral the pathway does not take, or a redirect, is
//!   forwarded to the board's route and the referrer told where it went.
//! - [`daily_summary`]: a board's counts of a day become an e-mail to its
//!   service manager, a delivery with no referral.
//! - [`closing`]: a referral's ending (withdrawal, opt-in lapse, decline,
//!   redirect) is closed with `referral.closed` once every delivery it
//!   caused has ended, in the transaction that records the last end.
//! - [`held`]: a decision's message to the referrer waits for the
//!   patient's, and then says how it went.
//! - [`board_settings`]: a board's changed notification settings are kept,
//!   in the consumer's transaction, if they are usable.
//! - [`send`]: the sweep that takes due deliveries under a lease, sends each
//!   once (a send in doubt is looked up at the gateway by its reference
//!   first) and records how it ended with its event.
//! - [`retention`]: the sweep that empties messages past the board's
//!   retention period and purges old audit rows.
//! - [`retry`]: a board admin sends a failed delivery again.
//! - [`callback`]: a Notify-compatible gateway says what became of a message.
//! - [`deliveries`]: a referral's deliveries, and deliveries by status.
//! - [`erasures`]: a patient's erasure empties the referral's messages; a
//!   board admin reads what went.
//!
//! Each returns this module's [`Error`] and never speaks HTTP: the web layer
//! and the consumer decide what an error means to their callers.

pub mod board_settings;
pub mod callback;
pub mod closing;
pub mod daily_summary;
pub mod deliveries;
pub mod erasures;
pub mod handoff;
pub mod held;
pub mod plan;
pub mod retention;
pub mod retry;
pub mod send;
pub mod texts;

use std::sync::Arc;

use chrono::Utc;
use pathway_common::auth::AuthError;
use pathway_common::board_settings::SettingsError;
use pathway_common::intake_client::IntakeClient;
use pathway_common::platform::Platform;
use pathway_common::validation::FieldError;
use pathway_proto::v1::{self as proto, Event, Payload};
use uuid::Uuid;

use crate::boards::{BoardError, Boards};
use crate::channels::Channels;
use crate::domain::{ChannelKind, Recipient, Status};
use crate::settings::Settings;
use crate::store::delivery;

pub use callback::GatewayCallback;
pub use deliveries::{Delivery, Page, PageRequest};

/// The actor named on this service's events and audit rows.
const ACTOR: &str = "notification";

/// The notification service's state: what every use case needs.
#[derive(Clone)]
pub struct Notifications {
    pub platform: Platform,
    pub intake: IntakeClient,
    pub channels: Channels,
    /// Each board's channels and templates.
    pub boards: Arc<Boards>,
    pub settings: Arc<Settings>,
    /// Encrypts and decrypts the deliveries' addresses and words.
    pub cipher: pathway_common::crypto::FieldCipher,
    /// Reads the clinicians' texts messages quote from vetting, which keeps them.
    pub texts: pathway_common::clinical_text_client::ClinicalTextClient,
}

impl Notifications {
    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.platform.db
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller sent something unusable, field by field.
    #[error("{} field(s) are not valid", .0.len())]
    Validation(Vec<FieldError>),
    /// The caller's role or boards do not allow it.
    #[error(transparent)]
    Forbidden(#[from] AuthError),
    /// A gateway's callback without a callback token this deployment knows.
    #[error("send the callback token configured for this gateway: `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// Nothing the caller may see goes by that name.
    #[error("{0}")]
    NotFound(String),
    /// Only a failed delivery is sent again.
    #[error("delivery {id} is {status}: only a failed delivery is retried")]
    NotFailed { id: String, status: Status },
    /// The delivery changed between reading and writing it.
    #[error("delivery {id} changed meanwhile: {what_now}")]
    Changed { id: String, what_now: &'static str },
    /// A failed delivery has nowhere to go, or intake no longer gives the
    /// referral's contact details.
    #[error("{0}")]
    CannotBeSent(String),
    /// A gateway speaks of a delivery that went out as another of its messages.
    #[error("delivery {reference} went out as another notification")]
    OtherNotification { reference: String },
    /// The patient's data was erased at their request: nothing about the
    /// referral is sent any more.
    #[error("the patient's data was erased at their request: nothing is sent")]
    Erased,
    /// An event that can never be handled (malformed, or unusable settings).
    #[error("{0}")]
    Rejected(String),
    /// Something this service depends on did not answer: nothing changed,
    /// and the same request may succeed shortly.
    #[error("{what} did not answer")]
    Unavailable {
        what: &'static str,
        #[source]
        cause: anyhow::Error,
    },
    /// Our own fault.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl Error {
    fn rejected(reason: impl Into<String>) -> Self {
        Self::Rejected(reason.into())
    }

    fn unavailable(what: &'static str, cause: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable {
            what,
            cause: cause.into(),
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        if pathway_common::db::is_unavailable(&error) {
            Self::unavailable("the database", error)
        } else {
            Self::Unexpected(error.into())
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

impl From<BoardError> for Error {
    fn from(error: BoardError) -> Self {
        match error {
            BoardError::Database(error) => error.into(),
            BoardError::Unusable(error) => Self::Unexpected(error),
        }
    }
}

/// `notification.sent`, or `notification.failed` with the reason and the
/// attempts made in all, for `row`.
fn end_event(row: &delivery::Model, failure: Option<(&str, i32)>) -> Event {
    let recipient = Recipient::parse(&row.recipient)
        .map(Recipient::to_proto)
        .unwrap_or(proto::Recipient::Unspecified) as i32;
    let channel = ChannelKind::parse(&row.channel)
        .map(ChannelKind::to_proto)
        .unwrap_or(proto::Channel::Unspecified) as i32;
    let payload = match failure {
        None => Payload::NotificationSent(proto::NotificationSent {
            delivery_id: row.id.clone(),
            recipient,
            channel,
            cause_event_id: row.cause_event_id.clone(),
        }),
        Some((reason, attempts)) => Payload::NotificationFailed(proto::NotificationFailed {
            delivery_id: row.id.clone(),
            recipient,
            channel,
            cause_event_id: row.cause_event_id.clone(),
            reason: reason.to_owned(),
            attempts: u32::try_from(attempts).unwrap_or(0),
        }),
    };
    Event::new(
        &row.board,
        Uuid::parse_str(&row.referral_id).ok(),
        ACTOR,
        Utc::now(),
        payload,
    )
}
