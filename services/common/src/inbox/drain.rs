//! Draining the durable consumer: handle everything it holds, then stop, as
//! a rebuild replays the stream.
//!
//! The pull keeps messages coming while a batch is handled (the next pull is
//! asked for when half of the last has been taken), so the broker's round
//! trip overlaps the database's work instead of following it.

use std::time::Duration;

use anyhow::Context;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::{Handler, Inbox};

/// How long the pull may stay quiet before the consumer is asked whether
/// anything is left.
const QUIET: Duration = Duration::from_millis(500);

/// How far a drain has gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Messages handled so far (redeliveries and dead letters included).
    pub handled: u64,
    /// Messages the consumer has not delivered yet.
    pub remaining: u64,
}

impl<H: Handler> Inbox<H> {
    /// Handle every message the durable consumer holds, batch by batch
    /// ([`super::ConsumerSpec::max_batch`], each one transaction), and end
    /// once none is left undelivered or unacknowledged (a message waiting
    /// out a fault that may heal is waited for). `report` hears how far it
    /// has gone before the first batch and after each. A batch that fails ends the drain with its
    /// error; its messages stay on the consumer for the next reader.
    pub async fn drain(&self, mut report: impl FnMut(Drained)) -> anyhow::Result<Drained> {
        let mut drained = Drained::default();
        if self.nothing_left(&mut drained).await? {
            report(drained);
            return Ok(drained);
        }
        // Where it starts: nothing handled, everything to go.
        report(drained);
        // Nothing cancels a drain but dropping it.
        let running = CancellationToken::new();
        loop {
            let mut messages = self
                .consumer
                .stream()
                .max_messages_per_batch(self.spec.max_batch)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
                .with_context(|| {
                    format!(
                        "cannot pull from the durable consumer {}",
                        self.spec.durable
                    )
                })?;
            loop {
                let Ok(first) = tokio::time::timeout(QUIET, messages.next()).await else {
                    if self.nothing_left(&mut drained).await? {
                        report(drained);
                        return Ok(drained);
                    }
                    continue;
                };
                let Some(first) = first else { break };
                let (batch, interrupted) =
                    super::split(self.gather(&mut messages, first, &running).await);
                drained.handled += self.process_batch(&batch).await?.len() as u64;
                let done = self.nothing_left(&mut drained).await?;
                report(drained);
                if done {
                    return Ok(drained);
                }
                if let Some(error) = interrupted {
                    self.pause_after(error, &running).await?;
                    break;
                }
            }
        }
    }

    /// Whether the consumer has nothing left to deliver and nothing
    /// delivered unacknowledged; `drained.remaining` is brought up to date.
    async fn nothing_left(&self, drained: &mut Drained) -> anyhow::Result<bool> {
        let info = self
            .consumer
            .get_info()
            .await
            .with_context(|| format!("cannot read the consumer {}", self.spec.durable))?;
        drained.remaining = info.num_pending;
        Ok(info.num_pending == 0 && info.num_ack_pending == 0)
    }
}
