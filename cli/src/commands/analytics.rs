//! `pathway analytics import|rebuild`: a board's baseline history into
//! analytics, and a rebuild of every fact from the stream in the running
//! service, followed with a progress bar. [`import`] is also how the demo
//! loads its baselines.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pathway_common::auth::Role;

use crate::args::AnalyticsAction;
use crate::client::{Client, ClientError, Service};

/// How often a rebuild's progress is asked for.
const REBUILD_POLL: Duration = Duration::from_millis(250);

pub async fn run(
    client: &Client,
    action: AnalyticsAction,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match action {
        AnalyticsAction::Import { file, board } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let loaded = import(client, &board, csv)
                .await
                .with_context(|| format!("{} was not loaded", file.display()))?;
            writeln!(
                out,
                "{board}: {} rows loaded from {} ({} replaced rows loaded before)",
                loaded.loaded,
                file.display(),
                loaded.replaced
            )?;
        }
        AnalyticsAction::Rebuild { from_start } => {
            let handled = rebuild(client, REBUILD_POLL, from_start).await?;
            writeln!(
                out,
                "rebuilt every fact from the latest snapshot and the stream: {handled} messages handled"
            )?;
        }
    }
    Ok(())
}

/// What analytics said about a loaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub loaded: u64,
    pub replaced: u64,
}

/// Send a baseline CSV for `board`. A refused file comes back as an error
/// listing every rejected row by line and column.
pub async fn import(client: &Client, board: &str, csv: Vec<u8>) -> Result<Loaded, ClientError> {
    let token = client.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
    let answer = client
        .post(Service::Analytics, "/v1/baseline")?
        .query(&[("board", board.to_owned())])
        .bearer(&token)
        .body("text/csv", csv)
        .send()
        .await?
        .require(200)?;
    Ok(Loaded {
        loaded: answer["loaded"].as_u64().unwrap_or(0),
        replaced: answer["replaced"].as_u64().unwrap_or(0),
    })
}

/// Ask the running analytics service to rebuild every fact from the latest
/// snapshot and the stream (or, `from_start`, from what the stream holds),
/// and follow it with a progress bar until it is done; returns how many
/// messages it handled. A rebuild that would lose facts is refused with the
/// service's reason.
pub async fn rebuild(client: &Client, poll: Duration, from_start: bool) -> anyhow::Result<u64> {
    let token = client.token_for(Role::BoardAdmin, "*", "cli-operator")?;
    client
        .post(Service::Analytics, "/v1/rebuild")?
        .query(&[("from_start", from_start.to_string())])
        .bearer(&token)
        .send()
        .await?
        .require(202)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "rebuilding {bar:40} {pos}/{len} messages  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        tokio::time::sleep(poll).await;
        let answer = match client
            .get(Service::Analytics, "/v1/rebuild")?
            .bearer(&token)
            .send()
            .await?
            .require(200)
        {
            Ok(answer) => answer,
            Err(refused) => {
                bar.abandon();
                return Err(refused.into());
            }
        };
        let handled = answer["handled"].as_u64().unwrap_or(0);
        let remaining = answer["remaining"].as_u64().unwrap_or(0);
        bar.set_length(handled + remaining);
        bar.set_position(handled);
        match answer["state"].as_str() {
            Some("running") => continue,
            Some("done") => {
                bar.finish_and_clear();
                return Ok(handled);
            }
            _ => {
                bar.abandon();
                bail!(
                    "the rebuild failed: {}\nthe live consumer carries on from where it stopped; \
                     run `pathway analytics rebuild` again once the cause is fixed",
                    answer["error"].as_str().unwrap_or("no reason given")
                );
            }
        }
    }
}
