//! The demo's history after adoption: for each board on the pathway,
//! referral journeys ([`journey`]) on every working day from its switch-on
//! up to yesterday, published straight onto the pathway stream as the
//! services' own events, with their historical times and marked as demo
//! data (`Event.demo`). Only analytics takes them in; intake, vetting,
//! decision and notification acknowledge them without effect, and a
//! production deployment refuses them.
//!
//! Deterministic for a seed: the same seed gives the same event ids, so a
//! second run adds nothing (analytics has handled them already).

use std::io::Write;

use anyhow::Context;
use async_nats::HeaderMap;
use chrono::{Datelike, NaiveDate, Weekday};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pathway_proto::days;
use pathway_proto::v1::Event;
use prost::Message as _;
use rand::Rng;
use rand::rngs::StdRng;

use super::journey;

/// Acknowledgements from the stream awaited at once, at most.
const IN_FLIGHT: usize = 512;

/// What the history came to on one board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardHistory {
    pub board: String,
    pub since: NaiveDate,
    pub referrals: usize,
    pub events: usize,
}

/// Every event of `board`'s history from `since` up to the day before
/// `today`, in the order they happened within each referral; a board sees
/// one to three referrals a working day.
pub fn events(
    rng: &mut StdRng,
    board: &str,
    since: NaiveDate,
    today: NaiveDate,
) -> (usize, Vec<Event>) {
    let cutoff = days::start_of(today);
    let per_day: f64 = rng.random_range(1.0..3.0);
    let mut referrals = 0;
    let mut events = Vec::new();
    let mut day = since;
    while day < today {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            let progress = ((day - since).num_days() as f64 / 365.0).min(1.0);
            // Poisson-like: a whole number around `per_day`.
            let count = (per_day + rng.random_range(-1.0..1.0)).round().max(0.0) as usize;
            for _ in 0..count {
                let received = journey::receipt_time(rng, day);
                events.extend(journey::events(rng, board, received, progress, cutoff));
                referrals += 1;
            }
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    (referrals, events)
}

/// Build and publish the history of each `(board, since)` to the stream at
/// `nats_url`.
pub async fn publish(
    nats_url: &str,
    adopted: &[(String, NaiveDate)],
    today: NaiveDate,
    rng: &mut StdRng,
    out: &mut dyn Write,
) -> anyhow::Result<Vec<BoardHistory>> {
    let mut histories = Vec::new();
    let mut all = Vec::new();
    for (board, since) in adopted {
        let (referrals, events) = events(rng, board, *since, today);
        histories.push(BoardHistory {
            board: board.clone(),
            since: *since,
            referrals,
            events: events.len(),
        });
        all.extend(events);
    }
    if all.is_empty() {
        return Ok(histories);
    }
    let client = connect(nats_url).await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    send(&jetstream, &all).await?;
    client.flush().await.ok();
    for history in &histories {
        writeln!(
            out,
            "{}: {} demo referrals ({} events) from {} to {} published as history",
            history.board,
            history.referrals,
            history.events,
            history.since,
            today.pred_opt().unwrap_or(today)
        )?;
    }
    Ok(histories)
}

/// A client of the NATS server at `nats_url` (`nats://user:password@host:port`
/// where it lists users), connected as the services connect.
async fn connect(nats_url: &str) -> anyhow::Result<async_nats::Client> {
    let settings = pathway_common::settings::NatsSettings {
        url: nats_url.to_owned(),
        ..Default::default()
    };
    let client = pathway_common::bus::connect(&settings, "demo").await?;
    // It keeps trying in the background: give up plainly instead.
    let started = std::time::Instant::now();
    while client.connection_state() != async_nats::connection::State::Connected {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            // Never echo a password given in the URL.
            let server = nats_url.rsplit('@').next().unwrap_or(nats_url);
            anyhow::bail!("cannot reach NATS at {server} after 10 s: start it or set --nats-url");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(client)
}

/// Publish `events` in order (the stream keeps one connection's order),
/// awaiting the stream's acknowledgements side by side.
async fn send(jetstream: &async_nats::jetstream::Context, events: &[Event]) -> anyhow::Result<()> {
    let bar = super::progress(events.len() as u64, "demo history events");
    let mut acks = FuturesUnordered::new();
    for event in events {
        let subject = event.subject().context("a demo event without a payload")?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.as_str());
        let ack = jetstream
            .publish_with_headers(subject, headers, event.encode_to_vec().into())
            .await
            .context("cannot publish the demo history (is the pathway stream there?)")?;
        acks.push(ack.into_future());
        if acks.len() >= IN_FLIGHT
            && let Some(done) = acks.next().await
        {
            done.context("the stream refused a demo event")?;
            bar.inc(1);
        }
    }
    while let Some(done) = acks.next().await {
        done.context("the stream refused a demo event")?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

#[cfg(test)]
#[path = "tests/history.rs"]
mod tests;
