//! `pathway metrics`: the evaluators' metrics from analytics, asked for as
//! an evaluator and printed as a table (`*` where a figure is suppressed), or
//! analytics' own CSV with every cell a spreadsheet could run as a formula
//! made text ([`csv_cell::escape_document`]: analytics writes it so, and an
//! older analytics' file is made so here).

use std::io::Write;

use anyhow::Context;
use pathway_common::auth::Role;
use pathway_common::csv_cell;
use serde_json::Value;

use crate::args::MetricsArgs;
use crate::client::{Client, Service};

/// The table's columns: heading and the report's field.
const COLUMNS: [(&str, &str); 6] = [
    ("received", "received"),
    ("remote", "received_remote"),
    ("vetted", "vetted"),
    ("median wd", "wait_working_days_median"),
    ("p90 wd", "wait_working_days_p90"),
    ("in target", "vetted_within_target_share"),
];

pub async fn run(client: &Client, args: MetricsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut params = vec![("from", args.from), ("by", args.by)];
    if !args.boards.is_empty() {
        params.push(("boards", args.boards.join(",")));
    }
    if let Some(to) = args.to {
        params.push(("to", to));
    }
    if let Some(split) = args.split {
        params.push(("split", split));
    }
    let path = if args.csv {
        "/v1/metrics.csv"
    } else {
        "/v1/metrics"
    };
    let board = match args.boards.as_slice() {
        [one] => one.as_str(),
        _ => "*",
    };
    let token = client.token_for(Role::Evaluator, board, "cli-evaluator")?;
    let reply = client
        .get(Service::Analytics, path)?
        .query(&params)
        .bearer(&token)
        .send()
        .await?;
    if reply.status != 200 {
        return Err(reply.refused().into());
    }
    if args.csv {
        return print_all(out, &csv_cell::escape_document(&reply.text));
    }
    let report: Value = serde_json::from_str(&reply.text)
        .context("analytics answered something other than JSON")?;
    let table = table(&report, client.base(Service::Analytics));
    print_all(out, &table)
}

/// The report as a table, with a footnote on suppression.
fn table(report: &Value, base: &str) -> String {
    let line = |period: &str, board: &str, group: &str, cells: [String; 6]| {
        format!(
            "{period:<10} {board:<22} {group:<14} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}\n",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        )
    };
    let mut table = line(
        "period",
        "board",
        "group",
        COLUMNS.map(|(h, _)| h.to_owned()),
    );
    for row in report["rows"].as_array().into_iter().flatten() {
        table.push_str(&line(
            row["period"].as_str().unwrap_or("?"),
            row["board"].as_str().unwrap_or("all"),
            row["group"].as_str().unwrap_or(""),
            COLUMNS.map(|(_, field)| cell(row, field)),
        ));
    }
    table.push_str(&format!(
        "counts from 1 to {} are shown as *; every metric, and the definitions: --csv, or GET {base}/openapi.json\n",
        report["suppression_threshold"]
            .as_u64()
            .unwrap_or(5)
            .saturating_sub(1)
    ));
    table
}

/// One figure: `*` when suppressed, shares as percentages, `-` when absent.
fn cell(row: &Value, field: &str) -> String {
    let hidden = row["suppressed"]
        .as_array()
        .is_some_and(|s| s.iter().any(|f| f == field));
    match &row[field] {
        _ if hidden => "*".to_owned(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if field.ends_with("_share") => format!("{:.0}%", x * 100.0),
            Some(x) if n.is_f64() => format!("{x:.1}"),
            _ => n.to_string(),
        },
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// Print `text`; a reader that stops early (`| head`) is not an error.
fn print_all(out: &mut dyn Write, text: &str) -> anyhow::Result<()> {
    match out.write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}
