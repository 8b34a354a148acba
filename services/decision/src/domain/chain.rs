//! A referral's decisions form one chain: the first decision, then each
//! decision that supersedes the one before. Nothing is updated or deleted;
//! the current decision is the one no other decision supersedes.

/// A recorded decision, as far as the chain is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub id: String,
    pub supersedes: Option<String>,
    /// 1 for the first decision, then one more for each that follows.
    pub sequence: i32,
    /// A patient-opt-in decision the patient opted back in to: the referral
    /// went back to the worklist and its next outcome follows this one.
    pub reopened: bool,
}

/// Where a new decision goes in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub supersedes: Option<String>,
    pub sequence: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("already decided (decision {current}); a correction must be marked as one")]
    AlreadyDecided { current: String },
}

/// Place a new outcome after `existing` (the referral's decisions, any order).
///
/// - No decision yet: the first one. A correction with nothing to correct is
///   taken as the first too, so that a correction that overtakes the outcome
///   it corrects (a redelivery) still leaves the clinician's latest word
///   current.
/// - A decision exists: only a correction follows it, or any outcome after
///   the patient opted back in to a patient-opt-in decision.
pub fn place(existing: &[ChainLink], correction: bool) -> Result<Placement, ChainError> {
    let Some(current) = chain_of(existing).first().copied() else {
        return Ok(Placement {
            supersedes: None,
            sequence: 1,
        });
    };
    if !correction && !current.reopened {
        return Err(ChainError::AlreadyDecided {
            current: current.id.clone(),
        });
    }
    let last = existing.iter().map(|l| l.sequence).max().unwrap_or(0);
    Ok(Placement {
        supersedes: Some(current.id.clone()),
        sequence: last + 1,
    })
}

/// The current decision first, then the ones it superseded, newest first.
pub fn chain_of(links: &[ChainLink]) -> Vec<&ChainLink> {
    let superseded = |id: &str| links.iter().any(|l| l.supersedes.as_deref() == Some(id));
    let Some(mut cursor) = links
        .iter()
        .filter(|l| !superseded(&l.id))
        .max_by_key(|l| l.sequence)
    else {
        return Vec::new();
    };
    let mut out = vec![cursor];
    while let Some(previous) = cursor
        .supersedes
        .as_deref()
        .and_then(|id| links.iter().find(|l| l.id == id))
    {
        // A chain never loops; stop rather than spin if stored rows say otherwise.
        if out.iter().any(|l| l.id == previous.id) {
            break;
        }
        out.push(previous);
        cursor = previous;
    }
    out
}

#[cfg(test)]
#[path = "tests/chain.rs"]
mod tests;
