//! `pathway practices`: feedback to referrers from analytics, per GP
//! practice of one board, asked for as an evaluator of that board and
//! printed as a table (`*` where a figure is suppressed, the board's totals
//! last), or analytics' own CSV with every cell a spreadsheet could run as a
//! formula made text.

use std::io::Write;

use anyhow::Context;
use pathway_common::auth::Role;
use pathway_common::csv_cell;
use serde_json::Value;

use crate::args::PracticesArgs;
use crate::client::{Client, Service};

/// The table's columns: heading and the row's field.
const COLUMNS: [(&str, &str); 9] = [
    ("received", "received"),
    ("decided", "decided"),
    ("accept", "outcomes.accept"),
    ("advice", "outcomes.advice_to_referrer"),
    ("redirect", "outcomes.redirect"),
    ("decline", "outcomes.decline"),
    ("withdrawn", "withdrawn"),
    ("awaiting", "awaiting"),
    ("advice %", "advice_to_referrer_share"),
];

pub async fn run(client: &Client, args: PracticesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut params = vec![("board", args.board.clone()), ("from", args.from)];
    if let Some(to) = args.to {
        params.push(("to", to));
    }
    let path = if args.csv {
        "/v1/practices.csv"
    } else {
        "/v1/practices"
    };
    let token = client.token_for(Role::Evaluator, &args.board, "cli-evaluator")?;
    let reply = client
        .get(Service::Analytics, path)?
        .query(&params)
        .bearer(&token)
        .send()
        .await?;
    if reply.status != 200 {
        return Err(reply.refused().into());
    }
    let text = if args.csv {
        csv_cell::escape_document(&reply.text).into_owned()
    } else {
        let report: Value = serde_json::from_str(&reply.text)
            .context("analytics answered something other than JSON")?;
        table(&report, client.base(Service::Analytics))
    };
    match out.write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// The report as a table, the board's totals last, with a footnote.
fn table(report: &Value, base: &str) -> String {
    let line = |practice: &str, cells: [String; 9]| {
        let mut text = format!("{practice:<10}");
        for c in cells {
            text.push_str(&format!(" {c:>9}"));
        }
        text.push('\n');
        text
    };
    let mut table = line("practice", COLUMNS.map(|(h, _)| h.to_owned()));
    let rows = report["practices"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&report["board_total"]));
    for row in rows {
        table.push_str(&line(
            row["practice"].as_str().unwrap_or("?"),
            COLUMNS.map(|(_, field)| cell(row, field)),
        ));
    }
    table.push_str(&format!(
        "referrals received {} to {} by practice, each under its current outcome; `all` is the board; \
         counts from 1 to {} are shown as *, with enough others that none can be worked out; \
         every outcome: --csv, definitions: GET {base}/openapi.json\n",
        report["from"].as_str().unwrap_or("?"),
        report["to"].as_str().unwrap_or("?"),
        report["suppression_threshold"]
            .as_u64()
            .unwrap_or(5)
            .saturating_sub(1)
    ));
    table
}

/// One figure: `*` when suppressed, the share as a percentage, `-` when absent.
fn cell(row: &Value, field: &str) -> String {
    let hidden = row["suppressed"]
        .as_array()
        .is_some_and(|s| s.iter().any(|f| f == field));
    let value = match field.strip_prefix("outcomes.") {
        Some(code) => &row["outcomes"][code],
        None => &row[field],
    };
    match value {
        _ if hidden => "*".to_owned(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if field.ends_with("_share") => format!("{:.0}%", x * 100.0),
            _ => n.to_string(),
        },
        _ => "-".to_owned(),
    }
}
