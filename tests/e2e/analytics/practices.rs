//! Feedback to referrers: referrals from several GP practices of one board
//! (and one practice of another) go through the real service; each
//! practice's counts, outcome mix and share returned with advice are worked
//! out here from the generated referrals, and disclosure control is checked
//! cell by cell: small counts hidden, and no row sum or column (the board's
//! total and its practices) left with exactly one hidden cell.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::{BOARD, at, day, json, scottish_day};

/// The service's default threshold: 1 to 4 are hidden.
const THRESHOLD: u64 = 5;

const OUTCOMES: [&str; 10] = [
    "accept",
    "pain_management_programme",
    "pain_psychology",
    "physiotherapy",
    "advice_to_referrer",
    "self_management",
    "residential_programme",
    "redirect",
    "decline",
    "patient_opt_in",
];

/// One generated referral.
struct Referral {
    id: Uuid,
    board: &'static str,
    practice: &'static str,
    received: DateTime<Utc>,
    /// The outcome recorded first, and the one a correction put in its place.
    outcome: Option<&'static str>,
    corrected_to: Option<&'static str>,
    withdrawn: bool,
}

/// Practice 10001 refers often, 10002 less, 10003 three times, two
/// referrals name no practice; a few fall just outside April in Scotland
/// (23:30 UTC on 31 March is 00:30 on 1 April, BST); one practice of
/// Lothian refers too.
fn referrals() -> Vec<Referral> {
    let mut out = Vec::new();
    let mut add = |board, practice, n: usize, first: usize| {
        for i in first..first + n {
            let received = at(day(4, 1 + (i % 29) as u32), 8 + (i % 9) as u32);
            let (outcome, withdrawn) = match i % 13 {
                0 | 6 => (None, true),
                1 => (None, false),
                k => (Some(OUTCOMES[(k + i / 13) % OUTCOMES.len()]), false),
            };
            out.push(Referral {
                id: Uuid::now_v7(),
                board,
                practice,
                received,
                outcome,
                corrected_to: (outcome.is_some() && i % 7 == 3).then_some("advice_to_referrer"),
                withdrawn,
            });
        }
    };
    add(BOARD, "10001", 60, 0);
    add(BOARD, "10002", 17, 100);
    add(BOARD, "10003", 3, 200);
    add(BOARD, "", 2, 300);
    add("lothian", "10001", 9, 400);
    for (received, practice) in [
        (at(day(3, 31), 23) + Duration::minutes(30), "10003"),
        (at(day(3, 31), 22) + Duration::minutes(30), "10003"),
        (at(day(4, 30), 23) + Duration::minutes(30), "10002"),
    ] {
        out.push(Referral {
            id: Uuid::now_v7(),
            board: BOARD,
            practice,
            received,
            outcome: Some("accept"),
            corrected_to: None,
            withdrawn: false,
        });
    }
    out
}

fn events_of(r: &Referral) -> Vec<Event> {
    let event = |when, payload| Event::new(r.board, Some(r.id), "test", when, payload);
    let mut out = vec![event(
        r.received,
        Payload::ReferralReceived(proto::ReferralReceived {
            practice_code: r.practice.into(),
            received_at: Some(proto::timestamp(r.received)),
            ..Default::default()
        }),
    )];
    let decide = |code: &str, when| {
        let kind = pathway_proto::board::outcome_kind(code).expect("an outcome code");
        event(
            when,
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: Uuid::now_v7().to_string(),
                outcome: Some(proto::Outcome {
                    kind: kind as i32,
                    ..Default::default()
                }),
                clinician: "dr-vetting".into(),
                decided_at: Some(proto::timestamp(when)),
                ..Default::default()
            }),
        )
    };
    if let Some(code) = r.outcome {
        out.push(decide(code, r.received + Duration::days(3)));
    }
    if let Some(code) = r.corrected_to {
        out.push(decide(code, r.received + Duration::days(4)));
    }
    if r.withdrawn {
        out.push(event(
            r.received + Duration::days(1),
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        ));
    }
    out
}

/// A practice's counts, by hand: `received`, `decided`, `withdrawn`,
/// `awaiting`, then `outcomes.<code>`.
fn expected(referrals: &[Referral]) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut rows: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let april = day(4, 1)..=day(4, 30);
    for r in referrals {
        if r.board != BOARD || !april.contains(&scottish_day(r.received)) {
            continue;
        }
        let practice = if r.practice.is_empty() {
            "unknown"
        } else {
            r.practice
        };
        for key in [practice, "all"] {
            let row = rows.entry(key.to_owned()).or_insert_with(|| {
                ["received", "decided", "withdrawn", "awaiting"]
                    .into_iter()
                    .map(str::to_owned)
                    .chain(OUTCOMES.iter().map(|c| format!("outcomes.{c}")))
                    .map(|k| (k, 0))
                    .collect()
            });
            *row.get_mut("received").expect("a cell") += 1;
            let slot = match r.corrected_to.or(r.outcome) {
                Some(code) => {
                    *row.get_mut("decided").expect("a cell") += 1;
                    format!("outcomes.{code}")
                }
                None if r.withdrawn => "withdrawn".to_owned(),
                None => "awaiting".to_owned(),
            };
            *row.get_mut(&slot).expect("a cell") += 1;
        }
    }
    rows
}

/// `GET <path>` as `token`.
async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("analytics answers")
}

/// The cell `field` of an answered row: `Some(None)` when hidden.
fn cell(row: &Value, field: &str) -> Option<u64> {
    match field.strip_prefix("outcomes.") {
        Some(code) => row["outcomes"][code].as_u64(),
        None => row[field].as_u64(),
    }
}

#[tokio::test]
async fn practices_see_their_referrals_outcomes_and_advice_share_suppressed() {
    let referrals = referrals();
    let want = expected(&referrals);
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let mut sent = 0;
        for r in &referrals {
            for event in events_of(r) {
                app.send(&event).await;
                sent += 1;
            }
        }
        app.wait_until_caught_up(sent).await;
        let lead = app.token(Role::Evaluator, &[BOARD]);
        let report = json(
            get(
                &app,
                "/v1/practices?board=highland&from=2026-04-01&to=2026-04-30",
                &lead,
            )
            .await,
        )
        .await;
        assert_eq!(report["suppression_threshold"], THRESHOLD);
        let mut rows: BTreeMap<String, Value> = report["practices"]
            .as_array()
            .expect("practices")
            .iter()
            .map(|r| {
                (
                    r["practice"].as_str().expect("a code").to_owned(),
                    r.clone(),
                )
            })
            .collect();
        rows.insert("all".into(), report["board_total"].clone());
        assert_eq!(
            rows.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{}: one row per practice that referred, and the board's",
            backend.name()
        );
        for (practice, counts) in &want {
            let row = &rows[practice];
            let suppressed: Vec<&str> = row["suppressed"]
                .as_array()
                .expect("suppressed")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for (field, n) in counts {
                match cell(row, field) {
                    Some(shown) => assert_eq!(shown, *n, "{practice} {field}"),
                    None => assert!(suppressed.contains(&field.as_str()), "{practice} {field}"),
                }
                if *n > 0 && *n < THRESHOLD {
                    assert_eq!(cell(row, field), None, "{practice} {field}={n} is small");
                }
            }
            let advice = cell(row, "outcomes.advice_to_referrer");
            let share = row["advice_to_referrer_share"].as_f64();
            match (advice, cell(row, "decided")) {
                (Some(a), Some(d)) if d > 0 => {
                    let exact =
                        counts["outcomes.advice_to_referrer"] as f64 / counts["decided"] as f64;
                    assert!((share.expect("a share") - exact).abs() < 1e-9, "{practice}");
                    assert_eq!(a as f64 / d as f64, share.expect("a share"));
                }
                _ => assert_eq!(share, None, "{practice}: the share hides with its counts"),
            }
            // Row sums: none with exactly one hidden cell.
            let hidden =
                |fields: Vec<String>| fields.iter().filter(|f| cell(row, f).is_none()).count();
            let sum: Vec<String> = ["received", "decided", "withdrawn", "awaiting"]
                .map(str::to_owned)
                .to_vec();
            assert_ne!(hidden(sum), 1, "{practice}: received = its parts");
            let mut decided = vec!["decided".to_owned()];
            decided.extend(OUTCOMES.iter().map(|c| format!("outcomes.{c}")));
            assert_ne!(hidden(decided), 1, "{practice}: decided = its outcomes");
        }
        // Columns: the board's total and its practices.
        for field in want["all"].keys() {
            let hidden = rows.values().filter(|r| cell(r, field).is_none()).count();
            assert_ne!(hidden, 1, "the column {field}");
        }
        // The small practice and the practice-less referrals are hidden,
        // and so, with the board's total shown, is another practice.
        assert_eq!(cell(&rows["10003"], "received"), None);
        assert_eq!(cell(&rows["unknown"], "received"), None);
        assert_eq!(
            cell(&rows["all"], "received"),
            Some(want["all"]["received"])
        );

        let csv = get(
            &app,
            "/v1/practices.csv?board=highland&from=2026-04-01&to=2026-04-30",
            &lead,
        )
        .await;
        assert_eq!(csv.status(), 200);
        let text = csv.text().await.expect("CSV");
        let mut lines = text.lines();
        let head = lines.next().expect("a header");
        assert!(head.starts_with("board,from,to,practice,received,decided,outcome_accept"));
        let small = lines
            .clone()
            .find(|l| l.contains(",10003,"))
            .expect("the small practice's line");
        assert!(small.contains(",*,"), "{small}");
        assert!(lines.any(|l| l.starts_with("highland,2026-04-01,2026-04-30,all,")));

        // Another board's lead, and a clinician, are refused; the board is named.
        let elsewhere = app.token(Role::Evaluator, &["lothian"]);
        let refused = get(
            &app,
            "/v1/practices?board=highland&from=2026-04-01&to=2026-04-30",
            &elsewhere,
        )
        .await;
        assert_eq!(refused.status(), 403);
        let body: Value = refused.json().await.expect("a JSON error");
        assert!(body.to_string().contains("highland"), "{body}");
        let clinician = app.token(Role::Clinician, &[BOARD]);
        let refused = get(
            &app,
            "/v1/practices?board=highland&from=2026-04-01",
            &clinician,
        )
        .await;
        assert_eq!(refused.status(), 403);

        for (query, field) in [
            ("from=2026-04-01", "board"),
            ("board=atlantis&from=2026-04-01", "board"),
            ("board=highland,lothian&from=2026-04-01", "board"),
            ("board=highland", "from"),
            ("board=highland&from=2026-04-31", "from"),
            ("board=highland&from=2026-04-01&to=2026-03-01", "to"),
            ("board=highland&from=2026-04-01&by=month", "by"),
        ] {
            let response = get(&app, &format!("/v1/practices?{query}"), &lead).await;
            assert_eq!(response.status(), 400, "{query}");
            let body: Value = response.json().await.expect("a JSON error");
            assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
        }
        let openapi = json(get(&app, "/openapi.json", &lead).await).await;
        assert!(openapi["paths"]["/v1/practices"].is_object());
        assert!(openapi["paths"]["/v1/practices.csv"].is_object());

        // Facts made before analytics kept practice codes have none: they
        // count as `unknown` until a rebuild from the stream fills them.
        app.db
            .execute_unprepared("UPDATE referral_facts SET practice_code = ''")
            .await
            .expect("the codes are blanked");
        let april = "/v1/practices?board=highland&from=2026-04-01&to=2026-04-30";
        let blank = json(get(&app, april, &lead).await).await;
        assert_eq!(blank["practices"].as_array().map(Vec::len), Some(1));
        assert_eq!(blank["practices"][0]["practice"], "unknown");
        assert_eq!(blank["board_total"], report["board_total"]);
        app.stop().await;
        pathway_analytics::startup::rebuild(&app.settings, false, |_| {})
            .await
            .expect("the rebuild runs");
        let mut app = app.restart().await;
        let lead = app.token(Role::Evaluator, &[BOARD]);
        let rebuilt = json(get(&app, april, &lead).await).await;
        assert_eq!(
            rebuilt,
            report,
            "{}: the rebuild fills the codes",
            backend.name()
        );
        app.stop().await;
    }
}
