//! A board admin sends a failed delivery again: it goes back to `planned`,
//! with an audit row, for the sweep to send.

use chrono::Utc;
use pathway_common::audit::{self, AuditEntry};
use pathway_common::auth::{Caller, Role};
use pathway_common::board_settings;
use pathway_proto::{BoardCode, days};
use sea_orm::TransactionTrait;

use super::{Delivery, Error, Notifications};
use crate::domain::{self, ChannelKind, Recipient, Status, Transition};
use crate::intake;
use crate::store::{deliveries, delivery};
use pathway_common::intake_client::IntakeError;

impl Notifications {
    /// Send a failed delivery again, at a board admin's word. A delivery with
    /// no address (it was sent once, or none was known) is addressed again
    /// from the referral as intake holds it now.
    pub async fn retry(&self, caller: &Caller, id: &str) -> Result<Delivery, Error> {
        caller.require_role(&[Role::BoardAdmin])?;
        let row = deliveries::find(self.db(), &self.cipher, id.trim())
            .await?
            .filter(|row| caller.may_act_for(&row.board))
            .ok_or_else(|| Error::NotFound(format!("no delivery {id} that this token may see")))?;
        let status = Status::from(row.status);
        let next = status
            .apply(Transition::Retried)
            .map_err(|_| Error::NotFailed {
                id: id.to_owned(),
                status,
            })?;
        if row.subject.is_empty() && row.body.is_empty() {
            if let Some(days) = self.past_retention(&row).await? {
                return Err(Error::CannotBeSent(format!(
                    "delivery {}'s address and words were removed {days} days after it was last tried, as the board's retention.delivery_days says: it cannot be sent again",
                    row.id
                )));
            }
            // Its template ran over a limit with this referral's fields:
            // there is nothing to send until the board's template changes.
            return Err(Error::CannotBeSent(format!(
                "delivery {} has no message to send ({}): correct the board's template",
                row.id,
                row.last_error
                    .as_deref()
                    .unwrap_or("its template did not render")
            )));
        }
        let address = if row.address.trim().is_empty() {
            self.address_again(&row).await?
        } else {
            row.address.clone()
        };
        let txn = self.db().begin().await?;
        let now = Utc::now();
        if !deliveries::plan_again(&txn, &self.cipher, &row, next.into(), address, now).await? {
            return Err(Error::Changed {
                id: id.to_owned(),
                what_now: "look again",
            });
        }
        audit::record(
            &txn,
            AuditEntry {
                actor: &caller.subject,
                actor_role: caller.role.as_str(),
                action: "delivery.retry",
                referral_id: (!row.referral_id.is_empty()).then(|| row.referral_id.clone()),
                board: Some(&row.board),
                source: &caller.source,
                purpose: Some("send a failed delivery again"),
            },
        )
        .await?;
        txn.commit().await?;
        Delivery::from_row(delivery::Model {
            status: next.into(),
            updated_at: now,
            ..row
        })
    }

    /// The board's `retention.delivery_days` when `row` was last tried
    /// before them, so that its words have gone (or are about to).
    async fn past_retention(&self, row: &delivery::Model) -> Result<Option<u32>, Error> {
        let board =
            BoardCode::parse(&row.board).map_err(|e| Error::Unexpected(anyhow::anyhow!(e)))?;
        let today = days::today();
        let periods = board_settings::in_force_on(self.db(), board, today)
            .await?
            .retention;
        Ok((row.updated_at < periods.delivery_cutoff(today)).then_some(periods.delivery_days))
    }

    /// The address of `row`, from the referral's contact details as intake
    /// holds them now.
    async fn address_again(&self, row: &delivery::Model) -> Result<String, Error> {
        if super::daily_summary::has_no_referral(row) {
            return self.manager_address_again(row).await;
        }
        let contacts = intake::contacts_of(
            &self.intake,
            &row.referral_id,
            "send a failed delivery again",
        )
        .await
        .map_err(|error| match error {
            IntakeError::Erased => Error::Erased,
            _ if intake::may_heal(&error) => Error::unavailable("intake", error),
            IntakeError::Refused { message, .. } => Error::CannotBeSent(format!(
                "intake no longer gives this referral's contact details: {message}"
            )),
            other => Error::unavailable("intake", other),
        })?;
        let board = BoardCode::parse(&row.board).map_err(|reason| {
            Error::Unexpected(anyhow::anyhow!("delivery {}: {reason}", row.id))
        })?;
        let board = self.boards.of(self.db(), &self.channels, board).await?;
        let address = match (
            Recipient::parse(&row.recipient),
            ChannelKind::parse(&row.channel),
        ) {
            (Some(recipient), Some(channel)) => domain::address_for(
                recipient,
                channel,
                row.receiving_service.as_deref(),
                &contacts,
                &board.channels,
            ),
            _ => Err(format!(
                "unknown recipient or channel {} {}",
                row.recipient, row.channel
            )),
        };
        address.map(|a| a.to_stored()).map_err(|why| {
            Error::CannotBeSent(format!(
                "delivery {} has nowhere to go ({why}): correct the referral or the board's channels",
                row.id
            ))
        })
    }
}
