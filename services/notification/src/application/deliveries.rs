//! What became of the messages: a referral's deliveries for its board's
//! clinicians and admins, and deliveries by status for a board's admins.

use chrono::{DateTime, Utc};
use pathway_common::auth::{Caller, Role};
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use uuid::Uuid;

use super::{Error, Notifications};
use crate::domain::{ChannelKind, Recipient, Status};
use crate::store::deliveries::{self, Boards};
use crate::store::delivery;

use pathway_common::page::MAX_LIMIT;

/// Which page of a listing: at most `limit` (1 to [`MAX_LIMIT`]) deliveries,
/// each older than the delivery `before` when given.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub before: Option<Uuid>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub deliveries: Vec<Delivery>,
    /// The last delivery's id, when older ones follow: the next page's `before`.
    pub next_before: Option<String>,
}

/// One delivery, as a service manager sees it: no contact details, no text.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub referral_id: String,
    pub board: BoardCode,
    /// `decision` or `information_request`.
    pub cause: String,
    pub cause_event_id: String,
    pub recipient: Recipient,
    pub channel: ChannelKind,
    /// The receiving service's code, for an onward referral.
    pub receiving_service: Option<String>,
    pub template: String,
    pub status: Status,
    /// Requests made to the gateway.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// `notify`, `webhook` or `sink`, once sent, with the gateway's own id.
    pub gateway: Option<String>,
    pub gateway_id: Option<String>,
    /// What the gateway last said of it (e.g. `delivered`), through its callback.
    pub gateway_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// A stored delivery, its columns parsed once here.
    pub fn from_row(row: delivery::Model) -> Result<Self, Error> {
        let board = BoardCode::parse(&row.board).map_err(|reason| {
            Error::Unexpected(anyhow::anyhow!("delivery {}: {reason}", row.id))
        })?;
        Ok(Self {
            recipient: Recipient::parse(&row.recipient).unwrap_or(Recipient::Referrer),
            channel: ChannelKind::parse(&row.channel).unwrap_or(ChannelKind::Webhook),
            status: row.status.into(),
            board,
            id: row.id,
            referral_id: row.referral_id,
            cause: row.cause,
            cause_event_id: row.cause_event_id,
            receiving_service: row.receiving_service,
            template: row.template,
            attempts: row.attempts,
            last_error: row.last_error,
            gateway: row.gateway,
            gateway_id: row.gateway_id,
            gateway_status: row.gateway_status,
            created_at: row.created_at,
            updated_at: row.updated_at,
            sent_at: row.sent_at,
        })
    }
}

fn all(rows: Vec<delivery::Model>) -> Result<Vec<Delivery>, Error> {
    rows.into_iter().map(Delivery::from_row).collect()
}

impl Notifications {
    /// A referral's deliveries, oldest first, for its board's clinicians and
    /// admins.
    pub async fn deliveries_of(
        &self,
        caller: &Caller,
        referral_id: &str,
    ) -> Result<Vec<Delivery>, Error> {
        caller.require_role(&[Role::BoardAdmin, Role::Clinician])?;
        let referral = Uuid::parse_str(referral_id.trim()).map_err(|_| {
            Error::Validation(vec![FieldError::new(
                "id",
                "must be a referral id (a UUID)",
            )])
        })?;
        let rows = deliveries::of_referral(self.db(), &self.cipher, &referral.to_string()).await?;
        let visible = rows.first().is_some_and(|r| caller.may_act_for(&r.board));
        if !visible {
            return Err(Error::NotFound(format!(
                "no deliveries for referral {referral} that this token may see"
            )));
        }
        all(rows)
    }

    /// A page of the deliveries in `status` of the caller's boards (or of
    /// `board`), newest first, for a board's admins.
    pub async fn deliveries_by_status(
        &self,
        caller: &Caller,
        status: Option<&str>,
        board: Option<&str>,
        page: PageRequest,
    ) -> Result<Page, Error> {
        caller.require_role(&[Role::BoardAdmin])?;
        let status = match status {
            Some(text) => Some(Status::parse(text.trim()).ok_or_else(|| {
                Error::Validation(vec![FieldError::new(
                    "status",
                    "must be planned, sending, sent or failed",
                )])
            })?),
            None => None,
        };
        let boards = match board {
            Some(board) => {
                caller.require_board(board)?;
                let board = BoardCode::parse(board)
                    .map_err(|reason| Error::Validation(vec![FieldError::new("board", reason)]))?;
                Boards::These(vec![board])
            }
            None if caller.boards.contains("*") => Boards::All,
            None => Boards::These(
                caller
                    .boards
                    .iter()
                    .filter_map(|b| BoardCode::parse(b).ok())
                    .collect(),
            ),
        };
        let limit = page.limit.clamp(1, MAX_LIMIT);
        let before = page.before.map(|id| id.to_string());
        // One more than asked says whether a next page exists.
        let mut rows = deliveries::list(
            self.db(),
            &self.cipher,
            status.map(Into::into),
            boards,
            before.as_deref(),
            limit + 1,
        )
        .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_before = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
        Ok(Page {
            deliveries: all(rows)?,
            next_before,
        })
    }
}
