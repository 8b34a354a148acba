//! `pathway publish --quarter 2026-Q3 --out DIR`: a quarter's fixed tables
//! from analytics (`GET /v1/publications/{quarter}`), asked for as an
//! evaluator of every board, written as one CSV file per table (`*` where
//! a cell is suppressed, every cell formula-safe: [`csv_cell::escape`])
//! and one SVG chart per table with each figure written beside its bar.
//! Progress goes to `err`; the list of files written to `out`.
//!
//! The charts are SVG from a minijinja template (already the workspace's
//! template engine) with markup escaping on: a bar chart is a few
//! rectangles and labels, which a plotting library would add a large
//! dependency tree for, and a template keeps the figures as plain text
//! in the file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use minijinja::{AutoEscape, Environment, context};
use pathway_common::auth::Role;
use pathway_common::csv_cell;
use serde_json::Value;

use crate::args::PublishArgs;
use crate::client::{Client, Service};

pub async fn run(
    client: &Client,
    args: PublishArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let quarter = args.quarter.as_str();
    if quarter.is_empty()
        || !quarter
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        anyhow::bail!("--quarter {quarter:?} is not a quarter: expected YYYY-Qn (2026-Q3)");
    }
    writeln!(err, "asking analytics for the {quarter} tables…")?;
    let token = client.token_for(Role::Evaluator, "*", "cli-evaluator")?;
    let reply = client
        .get(Service::Analytics, &format!("/v1/publications/{quarter}"))?
        .bearer(&token)
        .send()
        .await?;
    if reply.status != 200 {
        return Err(reply.refused().into());
    }
    let publication: Value = serde_json::from_str(&reply.text)
        .context("analytics answered something other than JSON")?;
    let label = publication["quarter"]
        .as_str()
        .unwrap_or(quarter)
        .to_owned();
    let tables = publication["tables"]
        .as_array()
        .context("analytics answered without tables")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot make the folder {}", args.out.display()))?;
    let charts = charts()?;
    let mut written = Vec::new();
    for (n, table) in tables.iter().enumerate() {
        let name = table["name"].as_str().context("a table without a name")?;
        writeln!(err, "[{}/{}] {name}", n + 1, tables.len())?;
        let stem = file_stem(&args.out, &label, name);
        let csv_path = stem.with_extension("csv");
        write_file(&csv_path, &to_csv(table)?)?;
        written.push(csv_path);
        let svg_path = stem.with_extension("svg");
        write_file(&svg_path, &chart(&charts, &label, table)?)?;
        written.push(svg_path);
    }
    writeln!(err, "done: {} files", written.len())?;
    for path in &written {
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// A cell as written: its figure, `*` when suppressed.
fn cell(value: &Value) -> String {
    value
        .as_u64()
        .map_or_else(|| "*".to_owned(), |n| n.to_string())
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `area` and the table's columns, then a line per area.
fn to_csv(table: &Value) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = |cells: Vec<String>| {
        writer.write_record(cells.iter().map(|c| csv_cell::escape(c).into_owned()))
    };
    let mut head = vec!["area".to_owned()];
    head.extend(strings(&table["columns"]));
    write(head)?;
    for row in table["rows"].as_array().into_iter().flatten() {
        let mut record = vec![row["area"].as_str().unwrap_or_default().to_owned()];
        record.extend(row["cells"].as_array().into_iter().flatten().map(cell));
        write(record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

const CHART: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="{{ width }}" height="{{ height }}" viewBox="0 0 {{ width }} {{ height }}" font-family="Arial, sans-serif" font-size="12">
<title>{{ title }} ({{ quarter }})</title>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="8" y="20" font-size="15" font-weight="bold">{{ title }}</text>
<text x="8" y="38" fill="#425563">{{ quarter }}. * suppressed: a small number, or one that would reveal one.</text>
<text x="8" y="54" fill="#425563">Bars are to scale within each area; every figure is written beside its bar.</text>
{%- for group in groups %}
<text x="8" y="{{ group.y }}" font-weight="bold">{{ group.area }}</text>
{%- for bar in group.bars %}
<text x="{{ label_x }}" y="{{ bar.y + 11 }}" text-anchor="end">{{ bar.label }}</text>
{%- if bar.width is not none %}
<rect x="{{ bar_x }}" y="{{ bar.y }}" width="{{ bar.width }}" height="14" fill="#005eb8"/>
{%- endif %}
<text x="{{ bar.text_x }}" y="{{ bar.y + 11 }}">{{ bar.value }}</text>
{%- endfor %}
{%- endfor %}
</svg>
"##;

fn charts() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("chart.svg", CHART)
        .context("the chart template")?;
    Ok(env)
}

/// The columns a table's chart draws: the parts, not the totals.
fn charted(name: &str, columns: &[String]) -> Vec<usize> {
    match name {
        "referrals" => (4..columns.len()).collect(),
        _ => (0..columns.len())
            .filter(|i| columns[*i] != "total")
            .collect(),
    }
}

/// A column as a person reads it: PHS's band names, outcomes in words.
fn label(column: &str) -> String {
    match column {
        "weeks_0_12" => "12 weeks or less".to_owned(),
        "weeks_13_24" => "13 to 24 weeks".to_owned(),
        "weeks_25_51" => "25 to 51 weeks".to_owned(),
        "weeks_52_plus" => "52 weeks or more".to_owned(),
        other => other.replace('_', " "),
    }
}

/// A bar per charted cell of each area, its figure beside it.
fn chart(env: &Environment<'_>, quarter: &str, table: &Value) -> anyhow::Result<String> {
    const ROW: u32 = 18;
    const BAR_X: u32 = 190;
    const BAR_WIDTH: f64 = 420.0;
    let name = table["name"].as_str().unwrap_or_default();
    let columns = strings(&table["columns"]);
    let shown = charted(name, &columns);
    let mut y = 80;
    let mut groups = Vec::new();
    for row in table["rows"].as_array().into_iter().flatten() {
        let cells = row["cells"].as_array().cloned().unwrap_or_default();
        let area = row["area"].as_str().unwrap_or_default();
        let group_y = y;
        y += 8;
        let max = shown
            .iter()
            .filter_map(|i| cells.get(*i).and_then(Value::as_u64))
            .max()
            .unwrap_or(0)
            .max(1);
        let bars: Vec<Value> = shown
            .iter()
            .map(|i| {
                let value = cells.get(*i).cloned().unwrap_or(Value::Null);
                let width = value
                    .as_u64()
                    .map(|n| (n as f64 / max as f64 * BAR_WIDTH).round() as u64);
                let bar = serde_json::json!({
                    "y": y,
                    "text_x": u64::from(BAR_X) + width.unwrap_or(0) + 6,
                    "label": columns.get(*i).map(|c| label(c)).unwrap_or_default(),
                    "width": width,
                    "value": cell(&value),
                });
                y += ROW;
                bar
            })
            .collect();
        groups.push(serde_json::json!({ "area": area, "y": group_y, "bars": bars }));
        y += 14;
    }
    let title = table["title"].as_str().unwrap_or(name);
    Ok(env.get_template("chart.svg")?.render(context! {
        width => BAR_X + BAR_WIDTH as u32 + 80,
        height => y,
        title,
        quarter,
        groups,
        label_x => BAR_X - 8,
        bar_x => BAR_X,
    })?)
}

/// Where `pathway publish` writes `table` of `quarter` in `dir`, without
/// the extension.
pub fn file_stem(dir: &Path, quarter: &str, table: &str) -> PathBuf {
    dir.join(format!("{quarter}-{}", table.replace('_', "-")))
}

#[cfg(test)]
#[path = "tests/publish.rs"]
mod tests;
