//! The metrics report as CSV: one line per row, in the JSON's field order,
//! outcome counts as `outcome_<code>` columns, `*` for a suppressed value,
//! empty for no value. Every cell goes through
//! [`pathway_common::csv_cell::escape`], so a value a spreadsheet could run
//! as a formula (an age band from a board's file or an event, say) is
//! written as text.

use pathway_common::csv_cell;

use crate::application::metrics::MetricsReport;
use crate::domain::metrics::MetricsRow;

/// The report's rows as CSV, in the JSON's field order.
pub fn to_csv(report: &MetricsReport) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let codes: Vec<String> = report
        .rows
        .first()
        .map(|row| row.outcomes.keys().cloned().collect())
        .unwrap_or_default();
    let mut head: Vec<String> = ["period", "period_first", "period_last", "board", "group"]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    head.extend(COUNT_FIELDS.iter().map(|(name, _)| (*name).to_owned()));
    head.extend(codes.iter().map(|c| format!("outcome_{c}")));
    write_cells(&mut writer, &head)?;
    for row in &report.rows {
        let hidden = |field: &str| row.suppressed.iter().any(|s| s == field);
        let cell = |field: &str, value: Option<String>| match value {
            Some(v) => v,
            None if hidden(field) => "*".to_owned(),
            None => String::new(),
        };
        let mut record = vec![
            row.period.clone(),
            row.period_first.to_string(),
            row.period_last.to_string(),
            row.board.map(|b| b.code().to_owned()).unwrap_or_default(),
            row.group.clone(),
        ];
        for (name, get) in COUNT_FIELDS {
            record.push(cell(name, get(row)));
        }
        for code in &codes {
            let value = row.outcomes.get(code).copied().flatten();
            record.push(cell(
                &format!("outcomes.{code}"),
                value.map(|n| n.to_string()),
            ));
        }
        write_cells(&mut writer, &record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// One line of `cells`, each as [`csv_cell::escape`] writes it.
fn write_cells<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    cells: &[String],
) -> csv::Result<()> {
    writer.write_record(cells.iter().map(|cell| csv_cell::escape(cell).into_owned()))
}

type Getter = fn(&MetricsRow) -> Option<String>;

fn n(value: Option<u64>) -> Option<String> {
    value.map(|v| v.to_string())
}

fn x(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// The CSV's metric columns, named as the JSON's fields.
const COUNT_FIELDS: [(&str, Getter); 29] = [
    ("received", |r| n(r.received)),
    ("received_remote", |r| n(r.received_remote)),
    ("received_standard", |r| n(r.received_standard)),
    ("vetted", |r| n(r.vetted)),
    (
        "wait_working_days_median",
        |r| x(r.wait_working_days_median),
    ),
    ("wait_working_days_p90", |r| x(r.wait_working_days_p90)),
    ("wait_calendar_days_median", |r| {
        x(r.wait_calendar_days_median)
    }),
    ("wait_calendar_days_p90", |r| x(r.wait_calendar_days_p90)),
    ("wait_working_days_excl_paused_median", |r| {
        x(r.wait_working_days_excl_paused_median)
    }),
    ("wait_working_days_excl_paused_p90", |r| {
        x(r.wait_working_days_excl_paused_p90)
    }),
    ("wait_calendar_days_excl_paused_median", |r| {
        x(r.wait_calendar_days_excl_paused_median)
    }),
    ("wait_calendar_days_excl_paused_p90", |r| {
        x(r.wait_calendar_days_excl_paused_p90)
    }),
    ("vetted_within_target", |r| n(r.vetted_within_target)),
    ("vetted_within_target_share", |r| {
        x(r.vetted_within_target_share)
    }),
    ("info_requested", |r| n(r.info_requested)),
    ("info_request_rate", |r| x(r.info_request_rate)),
    ("info_answered", |r| n(r.info_answered)),
    ("info_turnaround_working_days_median", |r| {
        x(r.info_turnaround_working_days_median)
    }),
    ("info_turnaround_working_days_p90", |r| {
        x(r.info_turnaround_working_days_p90)
    }),
    ("managed_without_specialist", |r| {
        n(r.managed_without_specialist)
    }),
    ("managed_without_specialist_share", |r| {
        x(r.managed_without_specialist_share)
    }),
    ("notification_failed", |r| n(r.notification_failed)),
    ("withdrawn", |r| n(r.withdrawn)),
    ("re_referral_followed_6m", |r| n(r.re_referral_followed_6m)),
    ("re_referred_6m", |r| n(r.re_referred_6m)),
    ("re_referral_rate_6m", |r| x(r.re_referral_rate_6m)),
    (
        "re_referral_followed_12m",
        |r| n(r.re_referral_followed_12m),
    ),
    ("re_referred_12m", |r| n(r.re_referred_12m)),
    ("re_referral_rate_12m", |r| x(r.re_referral_rate_12m)),
];

#[cfg(test)]
#[path = "tests/csv.rs"]
mod tests;
