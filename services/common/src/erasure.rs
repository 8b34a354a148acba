//! What a service removed under one erasure request: the answer of
//! `GET /v1/erasures/{id}` on every service that holds a patient's data
//! besides intake (vetting, notification), in one shape, so that
//! `pathway patient erase` can put the whole report together.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthError, Caller, Role};

/// One service's part of an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureReport {
    pub erasure_id: String,
    /// `vetting` or `notification`.
    pub service: String,
    /// Each referral of the request this service has acted on, with what it
    /// removed.
    pub referrals: Vec<ErasedReferral>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasedReferral {
    pub referral_id: String,
    pub board: String,
    /// Rows removed or emptied, by kind (`clinical_texts`, `messages`, ...).
    pub removed: BTreeMap<String, u64>,
    pub done_at: DateTime<Utc>,
}

/// Only a board admin reads an erasure's report, and only its own boards'
/// referrals in it.
pub fn require_reader(caller: &Caller) -> Result<(), AuthError> {
    caller.require_role(&[Role::BoardAdmin])
}
