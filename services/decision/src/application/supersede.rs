//! Where a new vetting outcome goes in the referral's chain of decisions. A
//! correction supersedes the current decision, which is kept; if that
//! decision was waiting on the patient's opt-in, its window ends as
//! superseded.

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use sea_orm::ConnectionTrait;

use super::Error;
use crate::domain::{self, ChainLink, Placement, WindowEvent, WindowState};
use crate::store::{decision, opt_in_window};

/// The chain as the domain sees it: each decision, what it supersedes, and
/// whether the patient opted back in to it.
pub(super) fn links(
    decisions: &[decision::Model],
    windows: &[opt_in_window::Model],
) -> Vec<ChainLink> {
    decisions
        .iter()
        .map(|d| ChainLink {
            id: d.id.clone(),
            supersedes: d.supersedes_decision_id.clone(),
            sequence: d.sequence,
            reopened: windows
                .iter()
                .any(|w| w.decision_id == d.id && w.state() == WindowState::OptedIn),
        })
        .collect()
}

/// Place an outcome for `board` after the referral's decisions; for a
/// correction, end the superseded decision's window if it is still open.
pub(super) async fn place_after<C: ConnectionTrait>(
    txn: &C,
    referral_id: &str,
    board: BoardCode,
    correction: bool,
    now: DateTime<Utc>,
) -> Result<Placement, Error> {
    let existing = decision::of_referral(txn, referral_id).await?;
    if let Some(other) = existing.iter().find(|d| d.board != board.code()) {
        return Err(Error::Refused(format!(
            "board: the referral's decisions are with {}, not {board}",
            other.board
        )));
    }
    let windows = opt_in_window::of_referral(txn, referral_id).await?;
    let placement = domain::place(&links(&existing, &windows), correction)
        .map_err(|e| Error::Refused(e.to_string()))?;
    if let Some(previous) = &placement.supersedes {
        let window = windows.iter().find(|w| &w.decision_id == previous);
        // A superseded opt-in decision no longer waits on the patient; a
        // window that already ended stays as it ended.
        if let Some(Ok(next)) = window.map(|w| w.state().apply(WindowEvent::Superseded)) {
            opt_in_window::end(txn, previous, now, next).await?;
        }
    }
    Ok(placement)
}
