//! What the dashboard leads with: before and after adoption, quarter by
//! quarter, and the waits to first appointment in Public Health Scotland's
//! weeks bands, each as a chart with its numbers in a table beside it.

use crate::application::metrics::MetricsReport;
use crate::application::phs::PhsReport;
use crate::domain::metrics::MetricsRow;
use crate::domain::phs_row::BandCounts;

use super::charts::{Figure, Row, row_chart};

/// One board's waits before and after it switched the pathway on.
pub(super) struct Comparison {
    pub(super) board: String,
    pub(super) chart: String,
    pub(super) rows: Vec<ComparisonRow>,
}

/// One quarter of one phase, as the table beside the chart shows it.
pub(super) struct ComparisonRow {
    pub(super) period: String,
    pub(super) phase: String,
    pub(super) received: String,
    pub(super) vetted: String,
    pub(super) wait: String,
    pub(super) within_target: String,
}

/// The PHS weeks bands of the range's last period.
pub(super) struct PhsBands {
    pub(super) period: String,
    pub(super) census_day: String,
    pub(super) seen_chart: String,
    pub(super) waiting_chart: String,
    /// Band, patients seen, patients still waiting.
    pub(super) rows: Vec<(String, String, String)>,
}

fn count(value: Option<u64>, hidden: bool) -> Figure {
    Figure::new(value.map(|n| n as f64), hidden, |v| format!("{v:.0}"))
}

/// Each board's rows of a report split by adoption, quarter by quarter; a
/// phase with nothing received or vetted in a quarter is left out.
pub(super) fn comparisons(report: &MetricsReport) -> Vec<Comparison> {
    let mut out = Vec::new();
    for board in &report.boards {
        let rows: Vec<&MetricsRow> = report
            .rows
            .iter()
            .filter(|r| r.board == Some(*board))
            .filter(|r| !(r.received == Some(0) && r.vetted == Some(0)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let hidden = |r: &MetricsRow, field: &str| r.suppressed.iter().any(|f| f == field);
        let wait = |r: &MetricsRow| {
            Figure::new(
                r.wait_working_days_excl_paused_median,
                hidden(r, "wait_working_days_excl_paused_median"),
                |v| format!("{v:.1}"),
            )
        };
        let phase = |r: &MetricsRow| {
            if r.group == "after" {
                "after"
            } else {
                "before"
            }
        };
        let chart_rows: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                label: format!("{} {}", r.period, phase(r)),
                figure: wait(r),
                class: if phase(r) == "after" {
                    "bar-after"
                } else {
                    "bar-before"
                },
            })
            .collect();
        let title = format!(
            "{}: median wait to vetting, before and after adoption",
            board.name()
        );
        out.push(Comparison {
            board: board.name().to_owned(),
            chart: row_chart(
                &format!("compare-{}", board.code()),
                &title,
                "Working days, paused time taken off, by quarter and whether received before or after adoption: ",
                &chart_rows,
            ),
            rows: rows
                .iter()
                .map(|r| ComparisonRow {
                    period: r.period.clone(),
                    phase: phase(r).to_owned(),
                    received: count(r.received, hidden(r, "received")).text,
                    vetted: count(r.vetted, hidden(r, "vetted")).text,
                    wait: wait(r).text,
                    within_target: Figure::new(
                        r.vetted_within_target_share,
                        hidden(r, "vetted_within_target_share"),
                        |v| format!("{:.0}%", v * 100.0),
                    )
                    .text,
                })
                .collect(),
        });
    }
    out
}

const BANDS: [(&str, &str); 4] = [
    ("weeks_0_12", "0 to 12 weeks"),
    ("weeks_13_24", "13 to 24 weeks"),
    ("weeks_25_51", "25 to 51 weeks"),
    ("weeks_52_plus", "52 weeks or more"),
];

fn band_values(counts: &BandCounts) -> [Option<u64>; 4] {
    [
        counts.weeks_0_12,
        counts.weeks_13_24,
        counts.weeks_25_51,
        counts.weeks_52_plus,
    ]
}

/// The last period's patients seen (every clinician) and still waiting, by
/// weeks band; `None` for a report without periods.
pub(super) fn phs_bands(report: &PhsReport) -> Option<PhsBands> {
    let last = report.rows.last()?;
    let figures = |prefix: &str, counts: &BandCounts| -> Vec<Figure> {
        BANDS
            .iter()
            .zip(band_values(counts))
            .map(|((field, _), value)| {
                let name = format!("{prefix}.{field}");
                count(value, last.suppressed.contains(&name))
            })
            .collect()
    };
    let seen = figures("seen.all_clinicians", &last.seen.all_clinicians);
    let waiting = figures("still_waiting.bands", &last.still_waiting.bands);
    let chart = |id: &str, title: String, figures: &[Figure]| {
        let rows: Vec<Row> = BANDS
            .iter()
            .zip(figures)
            .map(|((_, label), f)| Row {
                label: (*label).to_owned(),
                figure: Figure {
                    value: f.value,
                    text: f.text.clone(),
                },
                class: "bar-band",
            })
            .collect();
        row_chart(id, &title, "Patients, by weeks waited: ", &rows)
    };
    let mut rows: Vec<(String, String, String)> = BANDS
        .iter()
        .zip(seen.iter().zip(&waiting))
        .map(|((_, label), (s, w))| ((*label).to_owned(), s.text.clone(), w.text.clone()))
        .collect();
    let total = |field: &str, value: Option<u64>| {
        count(value, last.suppressed.iter().any(|f| f == field)).text
    };
    rows.push((
        "All".to_owned(),
        total("seen.all_clinicians.total", last.seen.all_clinicians.total),
        total("still_waiting.bands.total", last.still_waiting.bands.total),
    ));
    Some(PhsBands {
        seen_chart: chart(
            "phs-seen",
            format!(
                "Seen for a first appointment in {}, by weeks waited",
                last.period
            ),
            &seen,
        ),
        waiting_chart: chart(
            "phs-waiting",
            format!(
                "Still waiting on {}, by weeks waited so far",
                last.period_last
            ),
            &waiting,
        ),
        period: last.period.clone(),
        census_day: last.period_last.format("%-d %B %Y").to_string(),
        rows,
    })
}
