//! Another service reads a referral's identifiable data, for a named
//! purpose, with a service token for the referral's board. Every read leaves
//! an audit row naming the purpose and the caller's reason; the purpose also
//! decides which fields the caller is given (the adapter,
//! [`crate::rpc`], leaves the others out). Nothing is given of a referral
//! whose patient asked for erasure or restriction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use sea_orm::{DbErr, EntityTrait, TransactionTrait};

use super::referrals::InformationRequest;
use super::{Error, Intake};
use crate::domain::Status;
use crate::domain::referral::{NewReferral, Route};
use crate::store::{encrypted, queries, referral};

/// A referral with the patient's identifiers, for another service.
#[derive(Debug, Clone)]
pub struct IdentifiableReferral {
    pub id: String,
    pub board: String,
    pub status: Status,
    pub route: Route,
    pub received_at: DateTime<Utc>,
    pub version: i64,
    pub referrer_subject: String,
    /// The referral as received.
    pub referral: NewReferral,
    pub information_requests: Vec<InformationRequest>,
}

/// What another service needs a referral for; each purpose is given only
/// its own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A vetting clinician's view: identifiers, contact details, referrer,
    /// clinical content and information requests.
    VettingView,
    /// Reaching the patient and the referrer: names and contact details.
    ContactDetails,
    /// Checking who sent the referral: the referrer's token subject.
    ReferrerCheck,
    /// Handing the referral on to another service: identifiers, contact
    /// details, accessibility needs, referrer, clinical content and
    /// information requests.
    Handoff,
}

impl Purpose {
    /// The purpose's code, as the audit row names it.
    pub fn code(self) -> &'static str {
        match self {
            Self::VettingView => "vetting_view",
            Self::ContactDetails => "contact_details",
            Self::ReferrerCheck => "referrer_check",
            Self::Handoff => "handoff",
        }
    }
}

impl Intake {
    /// The referral `id` with its identifiers, for `caller` (a service) and
    /// `purpose`; `reason` must say why, in words. The audit row keeps both
    /// (`contact_details: notify the patient`).
    pub async fn identifiable_referral(
        &self,
        caller: &Caller,
        id: &str,
        purpose: Purpose,
        reason: &str,
    ) -> Result<IdentifiableReferral, Error> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::Validation(vec![FieldError::new(
                "purpose",
                "say why the referral is read: `purpose` must not be blank",
            )]));
        }
        let audited = format!("{}: {reason}", purpose.code());
        caller.require_role(&[Role::Service])?;
        let txn = self.db().begin().await?;
        let row = referral::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no referral {id}")))?;
        caller.require_board(&row.board)?;
        if row.erased_at.is_some() {
            return Err(Error::Erased);
        }
        if row.restricted_at.is_some() {
            return Err(Error::Restricted);
        }
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "referral.read_identifiable",
                referral_id: Some(row.id.clone()),
                board: Some(&row.board),
                source: "nats",
                purpose: Some(&audited),
            },
        )
        .await?;
        let information_requests = if matches!(purpose, Purpose::VettingView | Purpose::Handoff) {
            queries::information_requests(&txn, id)
                .await?
                .into_iter()
                .map(|r| encrypted::open_answer(&self.cipher, r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(DbErr::from)?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        Ok(IdentifiableReferral {
            referral: serde_json::from_str(
                &encrypted::open_document(&self.cipher, &row).map_err(DbErr::from)?,
            )
            .context("stored referral is unreadable")?,
            id: row.id,
            board: row.board,
            status: row.status.into(),
            route: row.route.into(),
            received_at: row.received_at,
            version: row.version,
            referrer_subject: row.referrer_subject,
            information_requests: information_requests.into_iter().map(Into::into).collect(),
        })
    }
}
