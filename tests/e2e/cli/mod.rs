//! The CLI, black-box: every `pathway` command run in-process (the library's
//! `run`, its output captured) against the whole platform, each service the
//! real `Application` on a real nats-server. Each test checks the effect in
//! the services, read back through their APIs, and what the command printed;
//! and a refusal or two, with every field the service named.
//!
//! SQLite only: the CLI speaks HTTP, and the services' own tests run each
//! database.
//!
//! One module per command, `pathway` and the parsing of its output here:
//! `board`, `referrals` (refer and status), `token`, `deliveries`,
//! `dead_letters`, `patient` (erasure and restriction), `analytics`
//! (baseline import, metrics, rebuild), `publish` (a quarter's tables as CSV
//! and SVG files), `practices` (feedback to referrers per GP practice) and
//! `demo`.

mod analytics;
mod board;
mod dead_letters;
mod deliveries;
mod demo;
mod demo_history;
mod patient;
mod practices;
mod publish;
mod referrals;
mod token;

use clap::Parser as _;
use pathway_tests::cli::{Platform, Ran, words};
use serde_json::Value;

/// Run `pathway <line>` against `platform` (words split as a shell would).
async fn pathway(platform: &Platform, line: &str) -> Ran {
    let words = words(line);
    let mut argv = vec!["pathway".to_owned()];
    argv.extend(platform.cli_flags(&words));
    argv.extend(words);
    let cli = pathway_cli::Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("`pathway {line}` does not parse: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = pathway_cli::run(cli, &mut out, &mut err).await;
    Ran {
        command: line.to_owned(),
        out: String::from_utf8(out).expect("UTF-8 output"),
        err: String::from_utf8(err).expect("UTF-8 notes"),
        error: result.err().map(|e| format!("{e:#}")),
    }
}

/// The UTC instant `utc` (RFC 3339) as the CLI should show it to a person:
/// on Scotland's clock, worked out from the summer-time rule (BST, UTC+1,
/// from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
/// Sunday of October), to the second, with its offset.
fn scottish(utc: &str) -> String {
    use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
    let at: DateTime<Utc> = utc
        .parse()
        .unwrap_or_else(|e| panic!("{utc:?} is not an instant: {e}"));
    let last_sunday = |month: u32| {
        let mut d = NaiveDate::from_ymd_opt(at.year(), month, 31).expect("31 days");
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt().expect("a day before");
        }
        Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).expect("01:00"))
    };
    let (shift, offset) = if last_sunday(3) <= at && at < last_sunday(10) {
        (Duration::hours(1), "+01:00")
    } else {
        (Duration::zero(), "+00:00")
    };
    format!("{}{offset}", (at + shift).format("%Y-%m-%dT%H:%M:%S"))
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Each line of `text`, split into words.
fn table(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}
