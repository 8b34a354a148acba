//! Sending: the sweep takes what is due under a lease (the batch in one
//! transaction), sends each delivery once, side by side, and records how
//! each ended, with its event: those that end together in one transaction.
//!
//! A crash between taking a delivery and recording its end leaves it
//! `sending`; once the lease lapses it is due again and *in doubt*: the
//! gateway is asked for it by its reference (the delivery id) before
//! anything is sent, and only a gateway that has not got it is sent it again.
//! A send that got no answer is in doubt too, and is looked up before the
//! next attempt and once more before it is called failed.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use pathway_common::outbox;
use pathway_proto::BoardCode;
use sea_orm::TransactionTrait;

use super::closing::close_if_everyone_told;
use super::handoff::release_notice;
use super::{Error, Notifications, end_event};
use crate::channels::{Channels, Message, Receipt, SendError};
use crate::domain::{
    Address, ChannelKind, DEFAULT_ACCOUNT, Recipient, Status, Transition, handoff,
};
use crate::store::deliveries::{self, End};
use crate::store::delivery;

/// Deliveries sent at the same time by one worker.
const CONCURRENT_SENDS: usize = 16;

impl Notifications {
    /// Send what is due: planned deliveries, and deliveries left `sending`
    /// past their lease (in doubt: looked up at the gateway first). Returns
    /// how many were finished. The sweep runs this; tests call it.
    pub async fn try_send_due(&self) -> Result<usize, Error> {
        let now = Utc::now();
        let due = deliveries::due(
            self.db(),
            &self.cipher,
            now,
            self.settings.sender.batch.max(1),
        )
        .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let taken = self.take(due, now).await?;
        // Sends go out side by side; the ends that are in when the last
        // were recorded are recorded together, in one transaction, while
        // the sends carry on (a send may need a connection meanwhile).
        let (ends, mut ended) = tokio::sync::mpsc::unbounded_channel();
        let sending = async move {
            let mut sends = futures::stream::iter(taken)
                .map(|(row, in_doubt)| self.deliver(row, in_doubt))
                .buffer_unordered(CONCURRENT_SENDS);
            let mut failure = None;
            while let Some(result) = sends.next().await {
                match result {
                    Ok(Some(end)) => {
                        let _ = ends.send(end);
                    }
                    Ok(None) => {}
                    Err(error) => failure = Some(error),
                }
            }
            failure
        };
        let recording = async {
            let (mut count, mut failure) = (0, None);
            while let Some(first) = ended.recv().await {
                let mut batch = vec![first];
                while let Ok(end) = ended.try_recv() {
                    batch.push(end);
                }
                // Not recorded: left `sending`, looked up at the gateway
                // once its lease lapses.
                match self.record(batch).await {
                    Ok(recorded) => count += recorded,
                    Err(error) => failure = Some(error),
                }
            }
            (count, failure)
        };
        let (send_failure, (count, record_failure)) = tokio::join!(sending, recording);
        match record_failure.or(send_failure) {
            Some(error) => Err(error),
            None => Ok(count),
        }
    }

    /// Take `rows` for this worker under a lease, in one transaction; those
    /// another worker took first are left out. Each comes with whether it
    /// is in doubt (it was left `sending`).
    async fn take(
        &self,
        rows: Vec<delivery::Model>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(delivery::Model, bool)>, Error> {
        let lease = chrono::Duration::seconds(
            i64::try_from(self.settings.sender.lease_seconds.max(1)).unwrap_or(600),
        );
        let txn = self.db().begin().await?;
        let mut taken = Vec::with_capacity(rows.len());
        for row in rows {
            let Ok(next) = Status::from(row.status).apply(Transition::Taken) else {
                continue;
            };
            if let Some(mine) = deliveries::take(&txn, &row, next.into(), now, now + lease).await? {
                taken.push((mine, row.status == delivery::Status::Sending));
            }
        }
        txn.commit().await?;
        Ok(taken)
    }

    /// Send one taken delivery: look it up first when in doubt, retry what
    /// is worth retrying, then record the end with its event.
    #[tracing::instrument(skip_all, fields(delivery_id = %row.id, referral_id = %row.referral_id, channel = %row.channel))]
    async fn deliver(&self, row: delivery::Model, in_doubt: bool) -> Result<Option<Ending>, Error> {
        let attempts = AtomicI32::new(0);
        let board = match BoardCode::parse(&row.board) {
            Ok(board) => self.boards.of(self.db(), &self.channels, board).await,
            Err(reason) => Err(crate::boards::BoardError::Unusable(anyhow::anyhow!(reason))),
        };
        let board = match board {
            Ok(board) => board,
            Err(error) => {
                let reason = format!("the board's channels cannot be read: {error:#}");
                return Ok(Some(Ending::new(
                    row,
                    Err(SendError::Permanent(reason)),
                    0,
                    None,
                )));
            }
        };
        let message = match message_of(&row) {
            Ok(message) => message,
            Err(error) => return Ok(Some(Ending::new(row, Err(error), 0, None))),
        };
        let account = if in_doubt {
            // Looked up, and sent again if need be, where it went out.
            Some(
                row.account
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned()),
            )
        } else {
            // The board's account now, kept before anything goes out so a
            // send in doubt is looked up there.
            let account = Channels::account_for(&board.channels, message.channel);
            if account != row.account
                && !deliveries::keep_account(self.db(), &row, account.clone()).await?
            {
                tracing::warn!(delivery_id = %row.id, "another worker took this delivery meanwhile");
                return Ok(None);
            }
            account
        };
        let channel =
            match self
                .channels
                .for_board(&board.channels, message.channel, account.as_deref())
            {
                Ok(channel) => channel,
                Err(error) => return Ok(Some(Ending::new(row, Err(error), 0, None))),
            };
        let doubt = AtomicBool::new(in_doubt);
        let sender = &self.settings.sender;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(sender.min_backoff_ms.max(1)))
            .with_max_delay(Duration::from_millis(sender.max_backoff_ms.max(1)))
            .with_max_times(sender.max_attempts.max(1) - 1)
            .with_jitter();
        let attempt = || async {
            if doubt.load(Ordering::SeqCst) {
                if let Some(receipt) = channel.lookup(&message).await? {
                    tracing::info!("the gateway already has this delivery: not sent again");
                    return Ok(receipt);
                }
                doubt.store(false, Ordering::SeqCst);
            }
            attempts.fetch_add(1, Ordering::SeqCst);
            channel.send(&message).await.inspect_err(|error| {
                if error.in_doubt() {
                    doubt.store(true, Ordering::SeqCst);
                }
            })
        };
        let mut result = attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(SendError::is_retryable)
            .adjust(|error: &SendError, delay| delay.map(|d| error.retry_after().unwrap_or(d)))
            .notify(|error: &SendError, delay| {
                tracing::info!(%error, ?delay, "delivery not taken: will try again");
            })
            .await;
        if result.is_err() && doubt.load(Ordering::SeqCst) {
            // The last answer never came: one more look before calling it failed.
            if let Ok(Some(receipt)) = channel.lookup(&message).await {
                result = Ok(receipt);
            }
        }
        let attempts = attempts.load(Ordering::SeqCst);
        let gateway = Some(channel.name().to_owned());
        Ok(Some(Ending::new(row, result, attempts, gateway)))
    }

    /// Record how deliveries ended, each with its event, in one
    /// transaction; each only if nobody took it since. Answers how many.
    async fn record(&self, ends: Vec<Ending>) -> Result<usize, Error> {
        if ends.is_empty() {
            return Ok(0);
        }
        let txn = self.db().begin().await?;
        let now = Utc::now();
        let mut recorded = Vec::with_capacity(ends.len());
        for ending in ends {
            let Ending {
                row,
                result,
                attempts,
                gateway,
            } = ending;
            let total = row.attempts + attempts;
            let (transition, end, event) = match &result {
                Ok(receipt) => (
                    Transition::Sent,
                    End::Sent {
                        gateway_id: receipt.gateway_id.clone(),
                    },
                    end_event(&row, None),
                ),
                Err(error) => {
                    let reason = error.to_string();
                    let event = end_event(&row, Some((&reason, total)));
                    (Transition::Failed, End::Failed { reason }, event)
                }
            };
            let next = Status::from(row.status)
                .apply(transition)
                .map_err(|illegal| Error::Unexpected(illegal.into()))?;
            let gateway = gateway.as_deref();
            if !deliveries::finish(&txn, &row, next.into(), &end, total, gateway, now).await? {
                tracing::warn!(delivery_id = %row.id, "another worker took this delivery meanwhile");
                continue;
            }
            if !super::daily_summary::has_no_referral(&row) {
                outbox::enqueue(&txn, &event).await?;
            }
            if row.cause == handoff::CAUSE && row.recipient == Recipient::ReceivingService.as_str()
            {
                release_notice(&txn, &row.id, result.is_ok()).await?;
            }
            if row.recipient == Recipient::Patient.as_str() {
                self.release_told(&txn, &row.id, result.is_ok(), now)
                    .await?;
            }
            recorded.push((row.id, row.cause_event_id, attempts, total, result.err()));
        }
        close_if_everyone_told(&txn, recorded.iter().map(|r| r.1.as_str()), now).await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        for (delivery_id, _, attempts, total, error) in &recorded {
            match error {
                None => tracing::info!(%delivery_id, attempts, "delivery sent"),
                Some(error) => {
                    tracing::warn!(%delivery_id, attempts = total, %error, "delivery failed")
                }
            }
        }
        Ok(recorded.len())
    }
}

/// How a taken delivery's send ended, to be recorded with the others that
/// ended with it.
struct Ending {
    row: delivery::Model,
    result: Result<Receipt, SendError>,
    /// Attempts made by this send.
    attempts: i32,
    /// The channel it went out through, when one was found.
    gateway: Option<String>,
}

impl Ending {
    fn new(
        row: delivery::Model,
        result: Result<Receipt, SendError>,
        attempts: i32,
        gateway: Option<String>,
    ) -> Self {
        Self {
            row,
            result,
            attempts,
            gateway,
        }
    }
}

/// The message a delivery row holds, ready to go; why not, when it cannot be.
fn message_of(row: &delivery::Model) -> Result<Message, SendError> {
    let channel = ChannelKind::parse(&row.channel)
        .ok_or_else(|| SendError::Permanent(format!("unknown channel {:?}", row.channel)))?;
    let address = Address::from_stored(channel, &row.address)
        .ok_or_else(|| SendError::Permanent("the delivery has no address".into()))?;
    let document = match &row.document {
        Some(text) => Some(serde_json::from_str(text).map_err(|e| {
            SendError::Permanent(format!("the stored webhook document is unreadable: {e}"))
        })?),
        None => None,
    };
    Ok(Message {
        reference: row.id.clone(),
        referral_id: row.referral_id.clone(),
        board: row.board.clone(),
        channel,
        address,
        subject: row.subject.clone(),
        body: row.body.clone(),
        document,
    })
}
