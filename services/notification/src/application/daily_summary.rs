//! `analytics.daily_summary`: a board's counts for one Scottish day become
//! one e-mail to its service manager (`notification.daily_summary` in the
//! board's settings), planned in the consumer's transaction and sent by the
//! same sweep as every delivery. The number of deliveries that failed that
//! day is this service's own, counted here as the summary is planned.
//!
//! The delivery has no referral: its `referral_id` is empty, it asks intake
//! for nothing, an erasure (which names a referral) never touches it, and
//! its end is recorded on its row only — `notification.sent` and
//! `notification.failed` speak of a referral's messages, and intake and
//! analytics follow a referral's life by them. Its words are counts, kept
//! and emptied after the board's retention period like any message's.

use chrono::{NaiveDate, Utc};
use pathway_common::pii::Pii;
use pathway_proto::days;
use pathway_proto::v1::{self as proto, Event};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::plan::board_of;
use super::{Error, Notifications};
use crate::channels::Channels;
use crate::domain::{Address, ChannelKind, Recipient, Status};
use crate::store::{deliveries, delivery};
use crate::summary_template::{self, SummaryFields};

/// The cause a summary's delivery is kept under.
pub const CAUSE: &str = "daily_summary";

impl Notifications {
    /// Plan the e-mail of `summary` to the board's service manager; nothing
    /// when the board has no `daily_summary` set (any more).
    #[tracing::instrument(skip_all, fields(board = %event.board, day = %summary.day), err)]
    pub async fn plan_daily_summary<C: ConnectionTrait>(
        &self,
        txn: &C,
        event: &Event,
        summary: &proto::AnalyticsDailySummary,
    ) -> Result<(), Error> {
        let board = board_of(event)?;
        let day = NaiveDate::parse_from_str(&summary.day, "%Y-%m-%d")
            .map_err(|e| Error::rejected(format!("day: {:?} is not a date: {e}", summary.day)))?;
        let config = self.boards.of(txn, &self.channels, board).await?;
        let Some(settings) = &config.channels.daily_summary else {
            tracing::info!("the board sends no daily summary: nothing planned");
            return Ok(());
        };
        let failed = failed_on(txn, board.code(), day).await?;
        let rendered = summary_template::render(&SummaryFields::new(board, day, summary, failed))
            .map_err(|error| {
            Error::Unexpected(anyhow::anyhow!(
                "the template {} {error}",
                summary_template::NAME
            ))
        })?;
        let now = Utc::now();
        let row = delivery::Model {
            id: Uuid::now_v7().to_string(),
            referral_id: String::new(),
            board: board.code().to_owned(),
            cause_event_id: event.event_id.clone(),
            cause: CAUSE.to_owned(),
            recipient: Recipient::ServiceManager.as_str().to_owned(),
            channel: ChannelKind::Email.as_str().to_owned(),
            receiving_service: None,
            template: summary_template::NAME.to_owned(),
            address: Address::Email(Pii::new(settings.email.clone())).to_stored(),
            subject: rendered.subject,
            body: rendered.body,
            document: None,
            status: Status::Planned.into(),
            attempts: 0,
            claims: 0,
            last_error: None,
            gateway: None,
            account: Channels::account_for(&config.channels, ChannelKind::Email),
            gateway_id: None,
            gateway_status: None,
            gateway_status_at: None,
            lease_until: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
            waits_for: None,
        };
        deliveries::insert(txn, &self.cipher, row).await?;
        Ok(())
    }
}

impl Notifications {
    /// The service manager's address for a summary sent again: the board's
    /// `daily_summary` e-mail now.
    pub(super) async fn manager_address_again(
        &self,
        row: &delivery::Model,
    ) -> Result<String, Error> {
        let board = pathway_proto::BoardCode::parse(&row.board).map_err(|reason| {
            Error::Unexpected(anyhow::anyhow!("delivery {}: {reason}", row.id))
        })?;
        let config = self.boards.of(self.db(), &self.channels, board).await?;
        config
            .channels
            .daily_summary
            .as_ref()
            .map(|summary| Address::Email(Pii::new(summary.email.clone())).to_stored())
            .ok_or_else(|| {
                Error::CannotBeSent(format!(
                    "delivery {} has nowhere to go (the board sends no daily summary now): set notification.daily_summary",
                    row.id
                ))
            })
    }
}

/// Whether `row` is a message with no referral (a service manager's
/// summary): nothing about it goes on the stream.
pub fn has_no_referral(row: &delivery::Model) -> bool {
    row.referral_id.is_empty()
}

/// The board's deliveries that ended failed on the Scottish `day`.
async fn failed_on<C: ConnectionTrait>(db: &C, board: &str, day: NaiveDate) -> Result<u64, Error> {
    use delivery::Column as D;
    Ok(delivery::Entity::find()
        .filter(D::Board.eq(board))
        .filter(D::Status.eq(delivery::Status::Failed))
        .filter(D::UpdatedAt.gte(days::start_of(day)))
        .filter(D::UpdatedAt.lt(days::end_of(day)))
        .count(db)
        .await?)
}
