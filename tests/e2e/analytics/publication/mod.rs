//! The fixed quarterly tables (`/v1/publications/{quarter}`): a generated
//! history over four boards of very different sizes (and a fifth where
//! only the difference between two published cells is small), received around
//! midnight in winter and summer, vetted for every kind of outcome, seen
//! at all kinds of clinic after 1 to 70 weeks, some still waiting. Every
//! published cell equals what this file works out from the events (in
//! Scottish days from the summer-time rule, completed weeks `days / 7`);
//! every small count is hidden; and a reader who knows every published
//! cell and solves the tables' relations one unknown at a time — row
//! totals, Scotland against the boards, all clinicians against
//! consultant-led — works out no hidden cell.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;

use super::expected::small;
use super::scottish_day;

mod history;

use history::OUTCOMES;
pub(crate) use history::{Referral, events_of, history};

const BAND_COLUMNS: [&str; 5] = [
    "weeks_0_12",
    "weeks_13_24",
    "weeks_25_51",
    "weeks_52_plus",
    "total",
];

/// PHS's band of a wait of `days`, by completed weeks.
fn band(days: i64) -> &'static str {
    match days / 7 {
        0..=12 => "weeks_0_12",
        13..=24 => "weeks_13_24",
        25..=51 => "weeks_25_51",
        _ => "weeks_52_plus",
    }
}

/// table → area → column → count, before suppression; the unpublished
/// `seen_other_clinicians` too.
type Expected = BTreeMap<&'static str, BTreeMap<String, BTreeMap<String, u64>>>;

pub(crate) fn expected(history: &[Referral], first: NaiveDate, last: NaiveDate) -> Expected {
    let mut e = Expected::new();
    for table in [
        "seen_consultant_led",
        "seen_all_clinicians",
        "seen_other_clinicians",
        "still_waiting",
        "referrals",
    ] {
        let areas = e.entry(table).or_default();
        for area in pathway_proto::board::BOARD_CODES
            .iter()
            .chain(&["scotland"])
        {
            let columns: Vec<String> = if table == "referrals" {
                ["received_remote", "received_standard", "received", "vetted"]
                    .iter()
                    .chain(OUTCOMES.iter())
                    .chain(["other_outcome"].iter())
                    .map(|c| (*c).to_owned())
                    .collect()
            } else {
                BAND_COLUMNS.iter().map(|c| (*c).to_owned()).collect()
            };
            areas.insert(
                (*area).to_owned(),
                columns.into_iter().map(|c| (c, 0)).collect(),
            );
        }
    }
    let within = |d: NaiveDate| first <= d && d <= last;
    for r in history {
        let mut add = |table: &'static str, column: &str| {
            for area in [r.board, "scotland"] {
                *e.get_mut(table)
                    .and_then(|t| t.get_mut(area))
                    .and_then(|a| a.get_mut(column))
                    .expect("a cell") += 1;
            }
        };
        let received = scottish_day(r.received);
        if within(received) {
            add(
                "referrals",
                if r.standard {
                    "received_standard"
                } else {
                    "received_remote"
                },
            );
            add("referrals", "received");
        }
        if let Some((vetted, code)) = r.vetted
            && within(scottish_day(vetted))
        {
            add("referrals", "vetted");
            add("referrals", code);
        }
        let seen = r.seen.map(|(t, clinic)| (scottish_day(t), clinic));
        if let Some((day, clinic)) = seen.filter(|(d, _)| within(*d)) {
            let b = band((day - received).num_days());
            let table = if clinic == proto::ClinicType::PainClinic {
                "seen_consultant_led"
            } else {
                "seen_other_clinicians"
            };
            for t in [table, "seen_all_clinicians"] {
                add(t, b);
                add(t, "total");
            }
        }
        // Still waiting at the end of the quarter's last day.
        let by = |t: Option<DateTime<Utc>>| t.is_some_and(|t| scottish_day(t) <= last);
        if r.standard || received > last || seen.is_some_and(|(d, _)| d <= last) || by(r.withdrawn)
        {
            continue;
        }
        if let Some((vetted, code)) = r.vetted
            && scottish_day(vetted) <= last
            && ![
                "accept",
                "pain_management_programme",
                "pain_psychology",
                "physiotherapy",
                "residential_programme",
            ]
            .contains(&code)
        {
            continue;
        }
        add("still_waiting", band((last - received).num_days()));
        add("still_waiting", "total");
    }
    e
}

/// A cell of the whole set: (table, area, column).
type Cell = (String, String, String);

/// The relations a reader knows hold between the cells: each row's total
/// and its parts, each column's Scotland total and its boards, and all
/// clinicians = consultant-led + other clinicians.
fn relations(e: &Expected) -> Vec<Vec<Cell>> {
    let cell = |t: &str, a: &str, c: &str| (t.to_owned(), a.to_owned(), c.to_owned());
    let mut out = Vec::new();
    for (table, areas) in e {
        let row_sums: Vec<(&str, Vec<String>)> = if *table == "referrals" {
            let outcomes = OUTCOMES
                .iter()
                .chain(["other_outcome"].iter())
                .map(|o| (*o).to_owned())
                .collect();
            vec![
                (
                    "received",
                    vec!["received_remote".into(), "received_standard".into()],
                ),
                ("vetted", outcomes),
            ]
        } else {
            vec![(
                "total",
                BAND_COLUMNS[..4].iter().map(|c| (*c).to_owned()).collect(),
            )]
        };
        for area in areas.keys() {
            for (total, parts) in &row_sums {
                let mut r: Vec<Cell> = parts.iter().map(|p| cell(table, area, p)).collect();
                r.push(cell(table, area, total));
                out.push(r);
            }
        }
        let columns = areas.values().next().expect("an area").keys();
        for column in columns {
            out.push(areas.keys().map(|a| cell(table, a, column)).collect());
        }
    }
    for area in e["seen_all_clinicians"].keys() {
        for column in BAND_COLUMNS {
            out.push(vec![
                cell("seen_all_clinicians", area, column),
                cell("seen_consultant_led", area, column),
                cell("seen_other_clinicians", area, column),
            ]);
        }
    }
    out
}

/// Check `publication` against `e`: every shown cell is right, every small
/// count hidden, and no hidden cell can be worked out. The counts of
/// cells shown and hidden.
fn check(publication: &Value, e: &Expected) -> (usize, usize) {
    let mut shown: BTreeMap<Cell, u64> = BTreeMap::new();
    let mut hidden: Vec<Cell> = Vec::new();
    let tables = publication["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "seen_consultant_led",
            "seen_all_clinicians",
            "still_waiting",
            "referrals"
        ]
    );
    for table in tables {
        let name = table["name"].as_str().expect("a name");
        let want = &e[name];
        let columns: Vec<&str> = table["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("a column"))
            .collect();
        let rows = table["rows"].as_array().expect("rows");
        let areas: Vec<&str> = rows
            .iter()
            .map(|r| r["area"].as_str().expect("an area"))
            .collect();
        let mut want_areas: Vec<&str> = want
            .keys()
            .map(String::as_str)
            .filter(|a| *a != "scotland")
            .collect();
        want_areas.sort_unstable();
        want_areas.push("scotland");
        assert_eq!(
            areas, want_areas,
            "{name}: the boards in order, then Scotland"
        );
        for row in rows {
            let area = row["area"].as_str().expect("an area");
            let cells = row["cells"].as_array().expect("cells");
            assert_eq!(cells.len(), columns.len());
            assert_eq!(
                want[area].keys().count(),
                columns.len(),
                "{name}: the columns"
            );
            for (column, got) in columns.iter().zip(cells) {
                let n = want[area][*column];
                let key = (name.to_owned(), area.to_owned(), (*column).to_owned());
                let named = row["suppressed"]
                    .as_array()
                    .expect("suppressed")
                    .iter()
                    .any(|f| f == column);
                match got.as_u64() {
                    Some(got) => {
                        assert_eq!(got, n, "{name} {area} {column}");
                        assert!(!small(n), "{name} {area} {column} = {n} is shown");
                        assert!(!named);
                        shown.insert(key, got);
                    }
                    None => {
                        assert!(named, "{name} {area} {column} is null, not named");
                        hidden.push(key);
                    }
                }
            }
        }
    }
    // The other clinicians are published nowhere, but a reader who has
    // both all clinicians and consultant-led has them.
    let mut known: BTreeMap<Cell, bool> = BTreeMap::new();
    for (table, areas) in e {
        for (area, columns) in areas {
            for column in columns.keys() {
                let key = (table.to_string(), area.clone(), column.clone());
                let is_known = if *table == "seen_other_clinicians" {
                    let of = |t: &str| (t.to_owned(), area.clone(), column.clone());
                    shown.contains_key(&of("seen_all_clinicians"))
                        && shown.contains_key(&of("seen_consultant_led"))
                } else {
                    shown.contains_key(&key)
                };
                known.insert(key, is_known);
            }
        }
    }
    let relations = relations(e);
    // No relation among published cells has exactly one unknown.
    for r in &relations {
        let unknown = r.iter().filter(|c| !known[*c]).count();
        if r.iter().all(|c| c.0 != "seen_other_clinicians") {
            assert_ne!(unknown, 1, "one unknown in {r:?}");
        }
    }
    // Solve relations with one unknown, over and over, until none is left.
    loop {
        let mut learnt = false;
        for r in &relations {
            let unknown: Vec<&Cell> = r.iter().filter(|c| !known[*c]).collect();
            if let [one] = unknown.as_slice() {
                known.insert((*one).clone(), true);
                learnt = true;
            }
        }
        if !learnt {
            break;
        }
    }
    for cell in &hidden {
        assert!(!known[cell], "{cell:?} is hidden but can be worked out");
    }
    for (area, columns) in &e["seen_other_clinicians"] {
        for (column, n) in columns {
            let key = (
                "seen_other_clinicians".to_owned(),
                area.clone(),
                column.clone(),
            );
            assert!(
                !(small(*n) && known[&key]),
                "{key:?} = {n} can be worked out"
            );
        }
    }
    (shown.len(), hidden.len())
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("analytics answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn the_quarterly_tables_equal_a_recomputation_and_hide_every_small_count_for_good() {
    let history = history();
    let quarters = [
        ("2026-Q3", (2026, 7, 1), (2026, 9, 30)),
        ("2026-Q1", (2026, 1, 1), (2026, 3, 31)),
        ("2025-Q4", (2025, 10, 1), (2025, 12, 31)),
    ];
    let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let want: Vec<Expected> = quarters
        .iter()
        .map(|(_, first, last)| expected(&history, date(*first), date(*last)))
        .collect();
    // The history meets every band and small counts that need company.
    let q3 = &want[0];
    for b in &BAND_COLUMNS[..4] {
        assert!(
            q3["seen_all_clinicians"]["scotland"][*b] >= 5,
            "{b}: {:?}",
            q3["seen_all_clinicians"]["scotland"]
        );
        assert!(
            q3["still_waiting"]["scotland"][*b] >= 5,
            "{b}: {:?}",
            q3["still_waiting"]["scotland"]
        );
    }
    let smalls = q3
        .values()
        .flat_map(|t| t.values())
        .flat_map(|a| a.values())
        .filter(|n| small(**n))
        .count();
    assert!(smalls >= 10, "{smalls} small counts");
    let shetland = |t: &str| q3[t]["shetland"]["weeks_0_12"];
    assert_eq!(
        (
            shetland("seen_consultant_led"),
            shetland("seen_all_clinicians"),
            shetland("seen_other_clinicians")
        ),
        (40, 42, 2)
    );

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
        let evaluator = app.token(Role::Evaluator, &["*"]);
        let (mut shown, mut hidden, mut secondary) = (0, 0, 0);
        for ((label, first, last), e) in quarters.iter().zip(&want) {
            let (status, publication) =
                get(&app, &evaluator, &format!("/v1/publications/{label}")).await;
            assert_eq!(status, 200, "{} {label}: {publication}", backend.name());
            assert_eq!(publication["quarter"], *label);
            assert_eq!(publication["first_day"], date(*first).to_string());
            assert_eq!(publication["last_day"], date(*last).to_string());
            assert_eq!(publication["suppression_threshold"], 5);
            let (s, h) = check(&publication, e);
            shown += s;
            hidden += h;
            // Cells hidden though not small: the secondary suppression.
            secondary += publication["tables"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| {
                    let name = t["name"].as_str().unwrap_or_default().to_owned();
                    let columns = t["columns"].clone();
                    t["rows"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |row| (name.clone(), columns.clone(), row))
                })
                .map(|(name, columns, row)| {
                    let area = row["area"].as_str().unwrap_or_default().to_owned();
                    row["cells"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .zip(columns.as_array().into_iter().flatten())
                        .filter(|(v, c)| {
                            v.is_null()
                                && !small(e[name.as_str()][&area][c.as_str().unwrap_or_default()])
                        })
                        .count()
                })
                .sum::<usize>();
        }
        assert!(secondary > 0, "some cells hidden only to protect others");
        assert!(shown > 3 * hidden, "{shown} cells shown, {hidden} hidden");

        // Fixed periods only, each refusal naming `quarter`.
        for bad in ["2026-07", "2026-Q5", "2026-W27", "2026-07-01", "Q3-2026"] {
            let (status, body) = get(&app, &evaluator, &format!("/v1/publications/{bad}")).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["fields"][0]["field"], "quarter", "{bad}: {body}");
        }
        let (status, body) = get(&app, &evaluator, "/v1/publications/2099-Q1").await;
        assert_eq!(status, 422, "a quarter not over: {body}");
        assert_eq!(body["fields"][0]["field"], "quarter", "{body}");
        let (status, body) =
            get(&app, &evaluator, "/v1/publications/2026-Q3?from=2026-07-02").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["fields"][0]["field"], "from", "{body}");
        // National tables: not for one board's evaluator, nor a board admin.
        for token in [
            app.token(Role::Evaluator, &["lothian"]),
            app.token(Role::BoardAdmin, &["*"]),
        ] {
            let (status, body) = get(&app, &token, "/v1/publications/2026-Q3").await;
            assert_eq!(status, 403, "{body}");
        }
        app.stop().await;
    }
}
