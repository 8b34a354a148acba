//! Waits to first appointment as Public Health Scotland counts them
//! (`/v1/waits`): a generated history of referrals received within minutes
//! of midnight in summer and winter and on the nights the clocks change,
//! vetted, asked about, withdrawn, and booked, seen, missed and cancelled
//! at their first appointment, some still waiting. Every figure by quarter
//! equals what this file works out from the events, in Scottish days from
//! the summer-time rule, with completed weeks `days / 7`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;

use super::expected::{quarter, small};
use super::{BOARD, scottish_day};

mod history;

use history::{Fate, Referral, events_of, history};

/// What one quarter should show, before suppression.
#[derive(Debug, Default)]
struct Quarter {
    /// Field path (as in `suppressed`) → count.
    counts: BTreeMap<String, u64>,
    /// Clinic type → days from decision to first appointment.
    decision_days: BTreeMap<&'static str, Vec<u32>>,
}

/// PHS's band of `days`, written out by completed weeks.
fn band(days: i64) -> &'static str {
    let weeks = days / 7;
    if weeks <= 12 {
        "weeks_0_12"
    } else if weeks <= 24 {
        "weeks_13_24"
    } else if weeks <= 51 {
        "weeks_25_51"
    } else {
        "weeks_52_plus"
    }
}

fn clinic_code(c: proto::ClinicType) -> &'static str {
    match c {
        proto::ClinicType::PainClinic => "pain_clinic",
        proto::ClinicType::PainPsychology => "pain_psychology",
        proto::ClinicType::Physiotherapy => "physiotherapy",
        _ => "pain_management_programme",
    }
}

/// Days paused between the days `from` and `to`: the question's day to
/// the answer's (or vetting's), within `from..=to`.
fn paused(r: &Referral, from: NaiveDate, to: NaiveDate) -> i64 {
    let Some((asked, answered)) = r.pause else {
        return 0;
    };
    let asked = scottish_day(asked).max(from);
    let ended = answered
        .or(r.vetted.map(|(v, _)| v))
        .map_or(to, scottish_day)
        .min(to);
    (ended - asked).num_days().max(0)
}

fn expected(history: &[Referral], quarters: &[(String, NaiveDate, NaiveDate)]) -> Vec<Quarter> {
    quarters
        .iter()
        .map(|(_, first, last)| {
            let mut q = Quarter::default();
            let mut add = |field: String| *q.counts.entry(field).or_default() += 1;
            for r in history {
                let received = scottish_day(r.received);
                let attended = r
                    .appointments
                    .iter()
                    .find(|(_, f)| *f == Fate::Attended)
                    .map(|(t, _)| scottish_day(*t));
                if let Some(seen) = attended.filter(|d| first <= d && d <= last) {
                    let days = (seen - received).num_days();
                    let excl = days - paused(r, received, seen);
                    let consultant = r.clinic == proto::ClinicType::PainClinic;
                    for (group, d) in [("", days), ("_excl_paused", excl)] {
                        add(format!("seen.all_clinicians{group}.{}", band(d)));
                        if consultant {
                            add(format!("seen.consultant_led{group}.{}", band(d)));
                        }
                    }
                    add("seen.all_clinicians.total".into());
                    if consultant {
                        add("seen.consultant_led.total".into());
                    }
                    if let Some((vetted, _)) = r.vetted {
                        q.decision_days
                            .entry(clinic_code(r.clinic))
                            .or_default()
                            .push((seen - scottish_day(vetted)).num_days() as u32);
                    }
                }
                // The census at the end of the last day.
                let by = |t: Option<DateTime<Utc>>| t.is_some_and(|t| scottish_day(t) <= *last);
                if received > *last || attended.is_some_and(|d| d <= *last) || by(r.withdrawn) {
                    continue;
                }
                let place = match r.vetted {
                    Some((v, code)) if scottish_day(v) <= *last => {
                        if code == "advice_to_referrer" {
                            continue;
                        }
                        "awaiting_first_appointment"
                    }
                    _ => match r.pause {
                        Some((asked, answered))
                            if scottish_day(asked) <= *last && !by(answered) =>
                        {
                            "awaiting_information"
                        }
                        _ => "awaiting_vetting",
                    },
                };
                let days = (*last - received).num_days();
                let excl = days - paused(r, received, *last);
                add(format!("still_waiting.{place}"));
                add("still_waiting.bands.total".into());
                add(format!("still_waiting.bands.{}", band(days)));
                add(format!("still_waiting.bands_excl_paused.{}", band(excl)));
            }
            q
        })
        .collect()
}

/// The value at `field` (`a.b.c`) of `row`, with decision-to-appointment
/// entries found by clinic type.
fn value<'a>(row: &'a Value, field: &str) -> &'a Value {
    let mut parts = field.split('.');
    let mut at = &row[parts.next().expect("a field")];
    for part in parts {
        at = match at.as_array() {
            Some(list) => list
                .iter()
                .find(|e| e["clinic_type"] == part)
                .unwrap_or(&Value::Null),
            None => &at[part],
        };
    }
    at
}

fn is_suppressed(row: &Value, field: &str) -> bool {
    row["suppressed"]
        .as_array()
        .expect("suppressed is a list")
        .iter()
        .any(|f| f == field)
}

/// A spreadsheet's PERCENTILE.INC, written out.
fn percentile(values: &[u32], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let h = (v.len() - 1) as f64 * q;
    let lo = v[h.floor() as usize] as f64;
    let hi = v[h.ceil() as usize] as f64;
    lo + (h - h.floor()) * (hi - lo)
}

const BANDS: [&str; 4] = ["weeks_0_12", "weeks_13_24", "weeks_25_51", "weeks_52_plus"];

/// Check `row` against `q`; the count of cells shown and hidden.
fn check(row: &Value, q: &Quarter) -> (usize, usize) {
    let mut fields: Vec<String> = Vec::new();
    for group in ["consultant_led", "all_clinicians"] {
        fields.push(format!("seen.{group}.total"));
        for suffix in ["", "_excl_paused"] {
            fields.extend(BANDS.map(|b| format!("seen.{group}{suffix}.{b}")));
        }
    }
    fields.push("still_waiting.bands.total".into());
    for suffix in ["", "_excl_paused"] {
        fields.extend(BANDS.map(|b| format!("still_waiting.bands{suffix}.{b}")));
    }
    for place in [
        "awaiting_vetting",
        "awaiting_information",
        "awaiting_first_appointment",
    ] {
        fields.push(format!("still_waiting.{place}"));
    }
    let (mut shown, mut hidden) = (0, 0);
    for field in &fields {
        let want = q.counts.get(field).copied().unwrap_or(0);
        let got = value(row, field);
        if small(want) {
            assert!(
                got.is_null() && is_suppressed(row, field),
                "{field}={want} must be hidden: {row}"
            );
            hidden += 1;
        } else if got.is_null() {
            // Hidden so that another hidden cell cannot be worked out.
            assert!(
                is_suppressed(row, field),
                "{field} is null, not suppressed: {row}"
            );
            hidden += 1;
        } else {
            assert_eq!(got.as_u64(), Some(want), "{field}: {row}");
            shown += 1;
        }
    }
    for clinic in [
        "pain_clinic",
        "pain_psychology",
        "physiotherapy",
        "pain_management_programme",
    ] {
        let values = q.decision_days.get(clinic).cloned().unwrap_or_default();
        let prefix = format!("decision_to_first_appointment.{clinic}");
        let n = values.len() as u64;
        if small(n) {
            assert!(
                value(row, &format!("{prefix}.seen")).is_null(),
                "{prefix}: {row}"
            );
            assert!(is_suppressed(row, &format!("{prefix}.median_days")));
            continue;
        }
        assert_eq!(
            value(row, &format!("{prefix}.seen")).as_u64(),
            Some(n),
            "{prefix}"
        );
        for (name, p) in [("median_days", 0.5), ("p90_days", 0.9)] {
            let got = value(row, &format!("{prefix}.{name}")).as_f64();
            match got {
                None => assert!(values.is_empty(), "{prefix}.{name}: {row}"),
                Some(got) => {
                    let want = percentile(&values, p);
                    assert!(
                        (got - want).abs() < 1e-9,
                        "{prefix}.{name}: {got} vs {want}"
                    );
                }
            }
        }
    }
    (shown, hidden)
}

#[tokio::test]
async fn waits_to_first_appointment_equal_a_recomputation_in_scottish_days() {
    let history = history();
    // The history is one where Scottish and UTC days part, for receipts
    // and for attendances, so this test can tell them apart.
    let parted = |t: DateTime<Utc>| scottish_day(t) != t.date_naive();
    assert!(history.iter().filter(|r| parted(r.received)).count() >= 30);
    assert!(
        history
            .iter()
            .flat_map(|r| &r.appointments)
            .filter(|(t, f)| *f == Fate::Attended && parted(*t))
            .count()
            >= 30
    );
    let quarters: Vec<(String, NaiveDate, NaiveDate)> = (0..7)
        .map(|k| {
            let first = NaiveDate::from_ymd_opt(2025, 1, 1)
                .expect("a date")
                .checked_add_months(chrono::Months::new(3 * k))
                .expect("a quarter");
            let last = first
                .checked_add_months(chrono::Months::new(3))
                .expect("a quarter")
                .pred_opt()
                .expect("a day");
            (quarter(first), first, last)
        })
        .collect();
    let want = expected(&history, &quarters);
    // Every band and every place is met somewhere, not all in one.
    for field in BANDS
        .iter()
        .map(|b| format!("seen.consultant_led.{b}"))
        .chain(BANDS.iter().map(|b| format!("still_waiting.bands.{b}")))
        .chain(
            [
                "awaiting_vetting",
                "awaiting_information",
                "awaiting_first_appointment",
            ]
            .map(|p| format!("still_waiting.{p}")),
        )
    {
        assert!(
            want.iter()
                .any(|q| q.counts.get(&field).copied().unwrap_or(0) >= 5),
            "the history has {field} shown in some quarter"
        );
    }

    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let mut sent = 0u64;
        for r in &history {
            for event in events_of(r) {
                app.send(&event).await;
                sent += 1;
            }
        }
        app.wait_until_caught_up(sent).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2025-01-01&to=2026-09-30&by=quarter";
        let response = app
            .http
            .get(format!("{}/v1/waits?{query}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("analytics answers");
        assert_eq!(response.status(), 200);
        let report: Value = response.json().await.expect("JSON");
        let rows = report["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), quarters.len(), "{}", backend.name());
        let (mut shown, mut hidden) = (0, 0);
        for ((label, _, last), (row, q)) in quarters.iter().zip(rows.iter().zip(&want)) {
            assert_eq!(row["period"], label.as_str());
            assert_eq!(row["period_last"], last.to_string());
            let (s, h) = check(row, q);
            shown += s;
            hidden += h;
        }
        assert!(shown > 2 * hidden, "{shown} cells shown, {hidden} hidden");

        // The same as CSV: a line per quarter, `*` where JSON has null.
        let csv = app
            .http
            .get(format!("{}/v1/waits.csv?{query}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("analytics answers");
        assert_eq!(csv.status(), 200);
        let text = csv.text().await.expect("text");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), quarters.len() + 1);
        let head: Vec<&str> = lines[0].split(',').collect();
        let column = head
            .iter()
            .position(|h| *h == "seen_consultant_led_weeks_0_12")
            .expect("a column for the band");
        for (line, row) in lines[1..].iter().zip(rows) {
            let cell = line.split(',').nth(column).expect("a cell");
            match row["seen"]["consultant_led"]["weeks_0_12"].as_u64() {
                Some(n) => assert_eq!(cell, n.to_string()),
                None => assert_eq!(cell, "*"),
            }
        }

        // A split is not offered here, and says so.
        let refused = app
            .http
            .get(format!("{}/v1/waits?{query}&split=sex", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("analytics answers");
        assert_eq!(refused.status(), 400);
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["fields"][0]["field"], "split", "{body}");
        app.stop().await;
    }
}
