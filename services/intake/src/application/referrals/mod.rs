//! The referral use cases, one file each, and what they share: loading a
//! referral for a caller, checking the version it was read at, and moving it
//! to its next status with its event and history.

use chrono::{DateTime, Utc};
use pathway_common::auth::{AuthError, Caller, Role};
use pathway_proto::v1::Event;
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Error;
use crate::domain::referral::Route;
use crate::domain::{BoardCode, Status};
use crate::store::{queries, referral};

mod opt_in;
mod provide_information;
mod questions;
mod read;
mod submit;
mod task;
mod withdraw;

pub(crate) use opt_in::record_invitation;
pub use opt_in::{CodeOutcome, IssuedLink, OptInLinks, OptInPage};
pub use read::{Action, HistoryItem, InformationRequest, ReferralDetails};
pub use submit::{DUPLICATE_REFUSED, Submitted};
pub use task::TaskPage;
pub(crate) use task::facts as task_facts;

/// A referral's state after a change: what a referrer is answered.
///
/// Also the answer kept with an Idempotency-Key, as JSON: keep the field
/// names, or stored answers stop reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralSummary {
    pub id: String,
    pub board: BoardCode,
    pub status: Status,
    pub route: Route,
    pub received_at: DateTime<Utc>,
    pub version: i64,
}

impl ReferralSummary {
    fn of(row: &referral::Model) -> Result<Self, Error> {
        Ok(Self {
            id: row.id.clone(),
            board: stored_board(&row.board)?,
            status: row.status.into(),
            route: row.route.into(),
            received_at: row.received_at,
            version: row.version,
        })
    }
}

/// A board code read back from intake's own rows.
pub(super) fn stored_board(code: &str) -> Result<BoardCode, Error> {
    BoardCode::parse(code)
        .map_err(|reason| Error::Unexpected(anyhow::anyhow!("stored board {code:?}: {reason}")))
}

/// The referral `id` if `caller` may see it: its referrer, or a clinician of
/// its board. "Not yours" and "does not exist" get the same answer, so
/// nobody can probe for ids. A referral whose patient asked for erasure or
/// restriction is neither read nor changed.
async fn load_for(
    txn: &DatabaseTransaction,
    caller: &Caller,
    id: &str,
) -> Result<referral::Model, Error> {
    let not_found = || Error::NotFound(format!("no referral {id} that this token may see"));
    Uuid::parse_str(id).map_err(|_| Error::MalformedId)?;
    let row = referral::Entity::find_by_id(id.to_owned())
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let allowed = match caller.role {
        Role::Referrer => row.referrer_subject == caller.subject && caller.may_act_for(&row.board),
        Role::Clinician => caller.may_act_for(&row.board),
        _ => false,
    };
    if !allowed {
        if matches!(caller.role, Role::Referrer | Role::Clinician) {
            return Err(not_found());
        }
        return Err(Error::Forbidden(AuthError::Forbidden(format!(
            "the role {} cannot read referrals: only the referrer who sent it or a clinician of its board",
            caller.role
        ))));
    }
    if row.erased_at.is_some() {
        return Err(Error::Erased);
    }
    if row.restricted_at.is_some() {
        return Err(Error::Restricted);
    }
    Ok(row)
}

/// Stale unless the caller read the version the referral is at (no
/// `If-Match` means the caller takes the risk).
fn check_version(row: &referral::Model, if_match: Option<i64>) -> Result<(), Error> {
    match if_match {
        Some(version) if version != row.version => Err(Error::Stale {
            current_version: row.version,
        }),
        _ => Ok(()),
    }
}

fn parse_id(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id)
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("stored referral id {id:?}: {e}")))
}

/// Move the referral to `next`, release its open-referral lock when it
/// closes, and record `event` (outbox and history).
async fn change_status(
    txn: &DatabaseTransaction,
    row: referral::Model,
    next: Status,
    event: &Event,
    detail: Option<serde_json::Value>,
) -> Result<referral::Model, Error> {
    let updated = queries::set_status(txn, row, next).await?;
    if !next.is_open() {
        queries::release_open_lock(txn, &updated.id).await?;
    }
    queries::record(txn, event, next, detail).await?;
    Ok(updated)
}
