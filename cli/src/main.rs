//! `pathway`: parse the command line, run it (the library, `lib.rs`), and
//! turn an error into a message on stderr and a failing exit code.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = pathway_cli::Cli::parse();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match pathway_cli::run(cli, &mut out, &mut err).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
