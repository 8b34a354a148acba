//! A Notify-compatible gateway says what became of a message: its status is
//! kept, and a final failure of a sent delivery makes it `failed` (with
//! `notification.failed`), for a board admin to see and send again.
//!
//! The gateway authenticates with the bearer token configured for it: the
//! `callback_token` of one of the Notify accounts, whose deliveries alone it
//! may speak of.

use chrono::Utc;
use pathway_common::outbox;
use pathway_common::validation::FieldError;
use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;

use super::{Error, Notifications, end_event};
use crate::domain::status::gateway_says_undelivered;
use crate::domain::{DEFAULT_ACCOUNT, Status, Transition};
use crate::store::deliveries;

/// A gateway's status callback.
#[derive(Debug, Clone)]
pub struct GatewayCallback {
    /// The gateway's id of the notification.
    pub id: String,
    /// The reference Pathway gave: the delivery id.
    pub reference: Option<String>,
    /// What the gateway says of it (Notify: `delivered`, `permanent-failure`, ...).
    pub status: String,
}

impl Notifications {
    /// A gateway's status callback, with the bearer token it `presented`.
    pub async fn gateway_callback(
        &self,
        presented: Option<&str>,
        callback: &GatewayCallback,
    ) -> Result<(), Error> {
        // Every account's token is compared, so the time taken says nothing of
        // which (if any) matched.
        let accounts: Vec<&str> = self
            .settings
            .all_notify_accounts()
            .filter(|(_, account)| match (&account.callback_token, presented) {
                (Some(expected), Some(presented)) => {
                    token_matches(presented, expected.expose_secret())
                }
                _ => false,
            })
            .map(|(name, _)| name)
            .collect();
        if accounts.is_empty() {
            return Err(Error::Unauthenticated);
        }
        let reference = callback
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::Validation(vec![FieldError::new(
                    "reference",
                    "must be the reference Pathway sent (the delivery id)",
                )])
            })?;
        let status = callback.status.trim();
        if status.is_empty() {
            return Err(Error::Validation(vec![FieldError::new(
                "status",
                "must not be blank",
            )]));
        }
        let txn = self.db().begin().await?;
        let row = deliveries::find(&txn, &self.cipher, reference)
            .await?
            .filter(|row| {
                row.gateway.as_deref().is_none_or(|g| g == "notify")
                    && accounts.contains(&row.account.as_deref().unwrap_or(DEFAULT_ACCOUNT))
            })
            .ok_or_else(|| {
                Error::NotFound(format!("no delivery {reference} sent through this account"))
            })?;
        if row
            .gateway_id
            .as_deref()
            .is_some_and(|id| id != callback.id)
        {
            return Err(Error::OtherNotification {
                reference: reference.to_owned(),
            });
        }
        let undelivered = if gateway_says_undelivered(status) {
            Status::from(row.status)
                .apply(Transition::Undelivered)
                .ok()
                .map(|next| (next, format!("the gateway could not deliver it: {status}")))
        } else {
            None
        };
        if let Some((_, reason)) = &undelivered {
            outbox::enqueue(&txn, &end_event(&row, Some((reason, row.attempts)))).await?;
        }
        let change = undelivered
            .as_ref()
            .map(|(next, reason)| ((*next).into(), reason.as_str()));
        if !deliveries::keep_gateway_status(&txn, &row, status, change, Utc::now()).await? {
            return Err(Error::Changed {
                id: reference.to_owned(),
                what_now: "call again",
            });
        }
        txn.commit().await?;
        if undelivered.is_some() {
            self.platform.outbox.notify();
            tracing::warn!(delivery_id = %row.id, %status, "the gateway could not deliver a sent message");
        }
        Ok(())
    }
}

/// True when `presented` is the configured token, compared in constant time.
fn token_matches(presented: &str, expected: &str) -> bool {
    use hmac::{Hmac, Mac};
    let digest = |text: &str| {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(b"pathway-notify-callback")
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(text.as_bytes());
        mac
    };
    let expected = digest(expected).finalize().into_bytes();
    digest(presented).verify_slice(&expected).is_ok()
}
