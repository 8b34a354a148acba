//! `pathway`: the command line for Pathway, for board admins (switch the
//! pathway on, change a board's settings, see what was sent), developers
//! (tokens, referrals, a demo) and evaluators (metrics, baselines, the
//! quarterly tables to publish).
//!
//! It talks to the services' HTTP APIs. Without `--token` it signs a
//! development token with the local key (the embedded default); against a
//! board's deployment, pass a token from its identity provider.
//!
//! The crate is a library with a thin `main`:
//! - [`args`]: the command line as clap types (global flags, every command);
//! - [`client`]: the HTTP client to the services (base URLs, token, sending,
//!   refusals as readable errors), signing with [`dev_token`];
//! - [`commands`]: one module per command, each writing to the output it is
//!   given;
//! - [`local_time`]: the services' UTC instants on Scotland's clock, as
//!   printed for people.
//!
//! [`run`] runs one parsed command line, so tests run commands in-process
//! against services they started and read what was printed.

pub mod args;
pub mod client;
pub mod commands;
pub mod dev_token;
pub mod local_time;

use std::io::Write;

pub use args::Cli;
use client::{Bases, Client};

/// Run `cli`: what it prints goes to `out`, notes meant for a person (not
/// for a pipe) to `err`. The caller reports the error.
pub async fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    pathway_common::tls::install_crypto_provider();
    let bases = Bases {
        intake: cli.intake,
        vetting: cli.vetting,
        decision: cli.decision,
        notification: cli.notification,
        analytics: cli.analytics,
    };
    let client = Client::new(bases, cli.token, cli.key_file.clone())?;
    commands::dispatch(&client, &cli.key_file, cli.command, out, err).await
}
