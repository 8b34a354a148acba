//! One module per command (or group of commands, `board`, `dead_letters`,
//! `deliveries`, `analytics`, `publish`, `patient`); [`dispatch`] runs one. Each writes what it prints to the
//! `out` it is given (stdout in the binary, a buffer in tests), and notes
//! meant to stay out of a redirected document (`board settings`) to `err`.
//! Progress bars draw on the terminal itself and are hidden elsewhere.

pub mod analytics;
pub mod appointments;
pub mod board;
pub mod dead_letters;
pub mod deliveries;
pub mod demo;
pub mod metrics;
pub mod patient;
pub mod practices;
pub mod publish;
pub mod refer;
pub mod status;
pub mod token;

use std::io::Write;
use std::path::Path;

use crate::args::Command;
use crate::client::Client;

/// Run `command` with `client`; `key_file` signs `pathway token`'s tokens.
pub async fn dispatch(
    client: &Client,
    key_file: &Path,
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        Command::Token(args) => token::run(key_file, args, out),
        Command::Refer(args) => refer::run(client, args, out).await,
        Command::Status(args) => status::run(client, args, out).await,
        Command::Board { action } => board::run(client, action, out, err).await,
        Command::DeadLetters { action } => dead_letters::run(client, action, out).await,
        Command::Deliveries { action } => deliveries::run(client, action, out).await,
        Command::Metrics(args) => metrics::run(client, args, out).await,
        Command::Practices(args) => practices::run(client, args, out).await,
        Command::Publish(args) => publish::run(client, args, out, err).await,
        Command::Analytics { action } => analytics::run(client, action, out).await,
        Command::Appointments { action } => appointments::run(client, action, out).await,
        Command::Demo(args) => demo::run(client, args, out).await,
        Command::Patient { action } => patient::run(client, action, out).await,
    }
}
