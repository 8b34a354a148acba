//! `pathway analytics import|rebuild`: a board's baseline history into
//! analytics, and a rebuild of every fact from the stream.

use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pathway_common::auth::Role;

use crate::Client;

/// What analytics said about a loaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub loaded: u64,
    pub replaced: u64,
}

/// Send a baseline CSV for `board`. A refused file comes back as an error
/// listing every rejected row by line and column.
pub async fn import(
    client: &Client,
    base: &str,
    board: &str,
    csv: Vec<u8>,
) -> anyhow::Result<Loaded> {
    let base = base.trim_end_matches('/');
    let token = client.token_for(Role::BoardAdmin, board, "cli-board-admin")?;
    let url = reqwest::Url::parse_with_params(&format!("{base}/v1/baseline"), [("board", board)])
        .with_context(|| format!("{base} is not a URL"))?;
    let request = client
        .http
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(csv);
    let (status, answer) = client.send_to(request, base).await?;
    if status != 200 {
        return Err(crate::fail_from("analytics", status, &answer));
    }
    Ok(Loaded {
        loaded: answer["loaded"].as_u64().unwrap_or(0),
        replaced: answer["replaced"].as_u64().unwrap_or(0),
    })
}

/// Ask the running analytics service to rebuild every fact from the stream,
/// and follow it with a progress bar until it is done.
pub async fn rebuild(client: &Client, base: &str, poll: Duration) -> anyhow::Result<u64> {
    let base = base.trim_end_matches('/');
    let token = client.token_for(Role::BoardAdmin, "*", "cli-operator")?;
    let url = format!("{base}/v1/rebuild");
    let (status, answer) = client
        .send_to(client.http.post(&url).bearer_auth(&token), base)
        .await?;
    if status != 202 {
        return Err(crate::fail_from("analytics", status, &answer));
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "rebuilding {bar:40} {pos}/{len} messages  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        tokio::time::sleep(poll).await;
        let (status, answer) = client
            .send_to(client.http.get(&url).bearer_auth(&token), base)
            .await?;
        if status != 200 {
            bar.abandon();
            return Err(crate::fail_from("analytics", status, &answer));
        }
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
