//! Analytics, black-box: the real service against a real nats-server and
//! real databases (SQLite always, PostgreSQL when one answers). A generated
//! history of events is published onto the stream by hand; every expected
//! number is worked out here from first principles — days walked one by one
//! against Scotland's 2026 bank holidays written out by hand, centiles from
//! the spreadsheet definition — never by calling the service's code.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use pathway_common::auth::Role;
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;
use uuid::Uuid;

const BOARD: &str = "highland";
const TARGET: u32 = 5;
/// The board's own non-working day, beside the bank holidays.
const LOCAL_HOLIDAY: (u32, u32) = (4, 20);

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a 2026 date")
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).expect("an hour"))
}

/// Scotland's bank holidays in 2026, from the published list, and the
/// board's own day.
fn non_working_weekdays() -> BTreeSet<NaiveDate> {
    [
        day(1, 1),
        day(1, 2),
        day(4, 3),   // Good Friday
        day(5, 4),   // early May
        day(5, 25),  // spring
        day(8, 3),   // summer
        day(11, 30), // St Andrew's Day
        day(12, 25),
        day(12, 28), // Boxing Day, substitute for Saturday 26th
        day(LOCAL_HOLIDAY.0, LOCAL_HOLIDAY.1),
        // For the baseline: St Andrew's Day 2025 fell on a Sunday, so
        // Monday 1 December; Christmas and Boxing Day on Thursday and Friday.
        NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date"),
        NaiveDate::from_ymd_opt(2025, 12, 25).expect("a date"),
        NaiveDate::from_ymd_opt(2025, 12, 26).expect("a date"),
    ]
    .into_iter()
    .collect()
}

/// Working days after `from` up to and including `to`, walked day by day.
fn working_days(from: NaiveDate, to: NaiveDate) -> u32 {
    let holidays = non_working_weekdays();
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.succ_opt().expect("a next day");
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d) {
            n += 1;
        }
    }
    n
}

fn calendar_days(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).expect("to is not before from")
}

/// PERCENTILE.INC of `values`.
fn percentile(values: &[u32], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let next = v.get(lo + 1).copied().unwrap_or(v[lo]);
    f64::from(v[lo]) + frac * (f64::from(next) - f64::from(v[lo]))
}

/// One generated referral and what happens to it.
#[derive(Debug, Clone)]
struct Case {
    id: String,
    board: &'static str,
    remote: bool,
    received: DateTime<Utc>,
    sex: proto::Sex,
    /// (asked, answered) for one request for information.
    pause: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    vetted: Option<DateTime<Utc>>,
    outcome: Option<&'static str>,
    /// A correction recorded a day after vetting, with this outcome.
    corrected_to: Option<&'static str>,
    withdrawn: Option<DateTime<Utc>>,
    /// The SMS to the patient about the decision failed.
    notification_failed: bool,
}

const OUTCOMES: [&str; 7] = [
    "accept",
    "advice_to_referrer",
    "self_management",
    "physiotherapy",
    "accept",
    "pain_psychology",
    "decline",
];

/// The history: standard-route referrals in January (7) and February (3),
/// before the board switches on (1 March); 40 remote referrals received 1
/// April to 27 May around Good Friday, the early May and spring bank
/// holidays and the board's own holiday; three on another board.
fn history() -> Vec<Case> {
    let mut cases = Vec::new();
    let standard = |m: u32, d: u32, i: usize| Case {
        id: Uuid::now_v7().to_string(),
        board: BOARD,
        remote: false,
        received: at(day(m, d), 10),
        sex: if i.is_multiple_of(2) {
            proto::Sex::Female
        } else {
            proto::Sex::Male
        },
        pause: None,
        vetted: None,
        outcome: None,
        corrected_to: None,
        withdrawn: None,
        notification_failed: false,
    };
    for i in 0..7 {
        cases.push(standard(1, 5 + i as u32, i));
    }
    for i in 0..3 {
        cases.push(standard(2, 9 + i as u32, i));
    }
    for i in 0..40usize {
        let received_on = day(4, 1) + Duration::days((i * 3 % 57) as i64);
        let received = at(received_on, 9);
        let lag = (i * 7 % 15) as i64;
        let vetted_on = received_on + Duration::days(lag);
        let withdrawn = (i % 10 == 9).then(|| at(received_on + Duration::days(2), 12));
        let vetted = withdrawn.is_none().then(|| at(vetted_on, 15));
        let pause = match (vetted, i % 4) {
            (Some(v), 1 | 3) if lag >= 2 => {
                let asked = at(received_on + Duration::days(1), 10);
                let answered = at(received_on + Duration::days(1 + (i % 5) as i64), 11);
                // Never answered when the answer would come after vetting.
                Some((asked, (answered < v).then_some(answered)))
            }
            _ => None,
        };
        cases.push(Case {
            id: Uuid::now_v7().to_string(),
            board: BOARD,
            remote: true,
            received,
            sex: if i % 3 == 0 {
                proto::Sex::Male
            } else {
                proto::Sex::Female
            },
            pause,
            vetted,
            outcome: vetted.map(|_| OUTCOMES[i % OUTCOMES.len()]),
            corrected_to: (vetted.is_some() && i % 11 == 3).then_some("self_management"),
            withdrawn,
            notification_failed: vetted.is_some() && i % 3 == 1,
        });
    }
    for i in 0..3 {
        cases.push(Case {
            board: "lothian",
            vetted: Some(at(day(4, 10), 15)),
            outcome: Some("accept"),
            ..cases[10 + i].clone()
        });
        cases.last_mut().expect("just pushed").id = Uuid::now_v7().to_string();
    }
    cases
}

fn event(case: &Case, when: DateTime<Utc>, payload: Payload) -> Event {
    Event::new(
        case.board,
        Some(Uuid::parse_str(&case.id).expect("a UUID")),
        "test",
        when,
        payload,
    )
}

fn outcome(code: &str) -> proto::Outcome {
    let kind = pathway_proto::board::outcome_kind(code).expect("an outcome code");
    proto::Outcome {
        kind: kind as i32,
        priority: if code == "accept" {
            proto::Priority::Routine as i32
        } else {
            0
        },
        ..proto::Outcome::default()
    }
}

/// The events of `case`, in the order they happen.
fn events_of(case: &Case) -> Vec<Event> {
    let patient = Some(proto::PatientAttributes {
        age_band: "40-49".into(),
        sex: case.sex as i32,
        urban_rural_class: 6,
        simd_quintile: 2,
        patient_pseudonym: format!("pseudonym-{}", case.id),
    });
    let mut out = vec![event(
        case,
        case.received,
        if case.remote {
            Payload::ReferralReceived(proto::ReferralReceived {
                patient,
                practice_code: "55501".into(),
                received_at: Some(proto::timestamp(case.received)),
                ..Default::default()
            })
        } else {
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                patient,
                practice_code: "55501".into(),
                reason: "board_not_on_pathway".into(),
                received_at: Some(proto::timestamp(case.received)),
            })
        },
    )];
    if case.remote {
        out.push(event(
            case,
            case.received + Duration::hours(1),
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "dr-vetting".into(),
                lease_expires_at: None,
            }),
        ));
    }
    if let Some((asked, answered)) = case.pause {
        out.push(event(
            case,
            asked,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: format!("q-{}", case.id),
                clinician: "dr-vetting".into(),
                question: "How long has the pain lasted?".into(),
            }),
        ));
        if let Some(answered) = answered {
            out.push(event(
                case,
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: format!("q-{}", case.id),
                }),
            ));
        }
    }
    if let (Some(vetted), Some(code)) = (case.vetted, case.outcome) {
        let mut record = |when: DateTime<Utc>, code: &str, correction: bool| {
            out.push(event(
                case,
                when,
                Payload::VettingCompleted(proto::VettingCompleted {
                    clinician: "dr-vetting".into(),
                    outcome: Some(outcome(code)),
                    rationale: "generated".into(),
                    correction,
                    ..Default::default()
                }),
            ));
            out.push(event(
                case,
                when,
                Payload::DecisionRecorded(proto::DecisionRecorded {
                    decision_id: Uuid::now_v7().to_string(),
                    outcome: Some(outcome(code)),
                    clinician: "dr-vetting".into(),
                    decided_at: Some(proto::timestamp(when)),
                    ..Default::default()
                }),
            ));
        };
        record(vetted, code, false);
        if let Some(corrected) = case.corrected_to {
            record(vetted + Duration::days(1), corrected, true);
        }
    }
    if let (true, Some(vetted)) = (case.notification_failed, case.vetted) {
        out.push(event(
            case,
            vetted + Duration::hours(1),
            Payload::NotificationFailed(proto::NotificationFailed {
                delivery_id: Uuid::now_v7().to_string(),
                recipient: proto::Recipient::Patient as i32,
                channel: proto::Channel::Sms as i32,
                cause_event_id: String::new(),
                reason: "the number is not in service".into(),
                attempts: 5,
            }),
        ));
    }
    if let Some(withdrawn) = case.withdrawn {
        out.push(event(
            case,
            withdrawn,
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        ));
    }
    out
}

fn board_events() -> Vec<Event> {
    let settings = BoardSettings {
        vetting_target_working_days: TARGET,
        extra_holidays: vec![day(LOCAL_HOLIDAY.0, LOCAL_HOLIDAY.1)],
        ..BoardSettings::default()
    };
    vec![
        Event::new(
            BOARD,
            None,
            "admin",
            at(day(2, 20), 12),
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: true,
                effective_date: "2026-03-01".into(),
                changed_by: "admin".into(),
                reason: "go live".into(),
            }),
        ),
        Event::new(
            BOARD,
            None,
            "admin",
            at(day(2, 21), 12),
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: TARGET,
                changed_by: "admin".into(),
                settings_json: serde_json::to_string(&settings).expect("settings serialise"),
            }),
        ),
    ]
}

/// What one period should show, before disclosure control.
#[derive(Debug, Default, Clone)]
struct Expected {
    remote: u64,
    standard: u64,
    working: Vec<u32>,
    calendar: Vec<u32>,
    working_net: Vec<u32>,
    calendar_net: Vec<u32>,
    within_target: u64,
    info_requested: u64,
    without_specialist: u64,
    notification_failed: u64,
    outcomes: BTreeMap<&'static str, u64>,
    withdrawn: u64,
    /// Working days from question to answer, by the month of the answer.
    turnaround: Vec<u32>,
}

fn month(d: NaiveDate) -> String {
    format!("{}-{:02}", d.year(), d.month())
}

/// Per month, what the highland referrals of `cases` should show.
fn expected_by_month(cases: &[Case], keep: impl Fn(&Case) -> bool) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.board == BOARD && keep(c)) {
        let r = case.received.date_naive();
        let e = out.entry(month(r)).or_default();
        if case.remote {
            e.remote += 1;
        } else {
            e.standard += 1;
        }
        if let Some(vetted) = case.vetted {
            let v = vetted.date_naive();
            let e = out.entry(month(v)).or_default();
            let (paused_working, paused_calendar) = match case.pause {
                Some((asked, answered)) => {
                    let a = asked.date_naive();
                    let b = answered.map_or(v, |x| x.date_naive()).min(v);
                    (working_days(a, b), calendar_days(a, b))
                }
                None => (0, 0),
            };
            let working = working_days(r, v);
            let calendar = calendar_days(r, v);
            e.working.push(working);
            e.calendar.push(calendar);
            e.working_net.push(working - paused_working);
            e.calendar_net.push(calendar - paused_calendar);
            if working - paused_working <= TARGET {
                e.within_target += 1;
            }
            if case.pause.is_some() {
                e.info_requested += 1;
            }
            if case.notification_failed {
                e.notification_failed += 1;
            }
            let code = case
                .corrected_to
                .or(case.outcome)
                .expect("vetted with an outcome");
            *e.outcomes.entry(code).or_default() += 1;
            if ["advice_to_referrer", "self_management", "physiotherapy"].contains(&code) {
                e.without_specialist += 1;
            }
        }
        if let Some(w) = case.withdrawn {
            out.entry(month(w.date_naive())).or_default().withdrawn += 1;
        }
        if let Some((asked, Some(answered))) = case.pause {
            out.entry(month(answered.date_naive()))
                .or_default()
                .turnaround
                .push(working_days(asked.date_naive(), answered.date_naive()));
        }
    }
    out
}

fn small(n: u64) -> bool {
    n > 0 && n < 5
}

fn hidden(row: &Value, field: &str) -> bool {
    row[field].is_null()
        && row["suppressed"]
            .as_array()
            .expect("suppressed is a list")
            .iter()
            .any(|f| f == field)
}

/// A count is shown exactly when it is not small, and then it is right.
fn check_count(row: &Value, field: &str, n: u64) {
    if small(n) {
        assert!(hidden(row, field), "{field}={n} must be hidden: {row}");
    } else {
        assert_eq!(row[field].as_u64(), Some(n), "{field}: {row}");
    }
}

/// A subset of the vetted is shown exactly when neither it nor its
/// complement is small.
fn check_subset(row: &Value, field: &str, n: u64, of: u64) {
    if small(n) || small(of - n) || small(of) {
        assert!(
            hidden(row, field),
            "{field}={n} of {of} must be hidden: {row}"
        );
        assert!(
            hidden(row, &format!("{field}_share"))
                || ["info_requested", "notification_failed"].contains(&field)
        );
    } else {
        assert_eq!(row[field].as_u64(), Some(n), "{field}: {row}");
    }
}

fn check_quantiles(row: &Value, name: &str, values: &[u32]) {
    for (suffix, q) in [("median", 0.5), ("p90", 0.9)] {
        let field = format!("{name}_{suffix}");
        if values.is_empty() {
            assert!(row[&field].is_null(), "{field}: {row}");
        } else if small(values.len() as u64) {
            assert!(
                hidden(row, &field),
                "{field} over {} must be hidden",
                values.len()
            );
        } else {
            let got = row[&field]
                .as_f64()
                .unwrap_or_else(|| panic!("{field} shown: {row}"));
            let want = percentile(values, q);
            assert!(
                (got - want).abs() < 1e-9,
                "{field}: got {got}, want {want} from {values:?}"
            );
        }
    }
}

async fn publish_history(app: &TestApp, cases: &[Case]) -> u64 {
    let mut events = board_events();
    for case in cases {
        events.extend(events_of(case));
    }
    for event in &events {
        app.send(event).await;
    }
    // The same events again under other message ids, as a relay that
    // crashed before recording its publish would send them: the broker
    // cannot tell, so the inbox must.
    for event in events.iter().step_by(3) {
        app.publish(event, &format!("again-{}", event.event_id))
            .await;
    }
    events.len() as u64
}

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON answer")
}

#[tokio::test]
async fn monthly_metrics_match_a_generated_history_worked_out_by_hand() {
    let cases = history();
    let expected = expected_by_month(&cases, |_| true);
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2026-01-01&to=2026-06-30&by=month";
        let report = json(app.metrics(&token, query).await).await;
        let rows = report["rows"].as_array().expect("rows");
        let months: Vec<&str> = rows
            .iter()
            .map(|r| r["period"].as_str().expect("a period"))
            .collect();
        assert_eq!(
            months,
            [
                "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"
            ],
            "{}",
            backend.name()
        );
        let mut vetted_total = 0;
        for row in rows {
            let label = row["period"].as_str().expect("a period");
            let e = expected.get(label).cloned().unwrap_or_default();
            assert_eq!(row["group"], "all");
            check_count(row, "received_remote", e.remote);
            check_count(row, "received_standard", e.standard);
            if small(e.remote) || small(e.standard) || small(e.remote + e.standard) {
                assert!(hidden(row, "received"), "{row}");
            } else {
                assert_eq!(row["received"].as_u64(), Some(e.remote + e.standard));
            }
            let vetted = e.working.len() as u64;
            vetted_total += vetted;
            check_count(row, "vetted", vetted);
            check_quantiles(row, "wait_working_days", &e.working);
            check_quantiles(row, "wait_calendar_days", &e.calendar);
            check_quantiles(row, "wait_working_days_excl_paused", &e.working_net);
            check_quantiles(row, "wait_calendar_days_excl_paused", &e.calendar_net);
            check_subset(row, "vetted_within_target", e.within_target, vetted);
            check_subset(row, "info_requested", e.info_requested, vetted);
            check_subset(
                row,
                "managed_without_specialist",
                e.without_specialist,
                vetted,
            );
            if let Some(share) = row["vetted_within_target_share"].as_f64() {
                assert!((share - e.within_target as f64 / vetted as f64).abs() < 1e-9);
            }
            for (code, value) in row["outcomes"].as_object().expect("outcomes") {
                let n = e.outcomes.get(code.as_str()).copied().unwrap_or(0);
                match value.as_u64() {
                    Some(shown) => assert_eq!(shown, n, "outcome {code} in {label}"),
                    None => assert!(
                        row["suppressed"]
                            .as_array()
                            .expect("a list")
                            .iter()
                            .any(|f| f == &format!("outcomes.{code}")),
                        "{code} is null but not flagged: {row}"
                    ),
                }
                if small(n) {
                    assert!(
                        value.is_null(),
                        "outcome {code}={n} must be hidden in {label}"
                    );
                }
            }
            check_count(row, "withdrawn", e.withdrawn);
            check_subset(row, "notification_failed", e.notification_failed, vetted);
            check_count(row, "info_answered", e.turnaround.len() as u64);
            check_quantiles(row, "info_turnaround_working_days", &e.turnaround);
        }
        // Every vetted highland referral is counted once, however often it
        // was delivered; lothian's are not counted at all.
        assert_eq!(vetted_total, 36, "{}", backend.name());
        assert_eq!(
            cases
                .iter()
                .filter(|c| c.board == BOARD && c.vetted.is_some())
                .count() as u64,
            vetted_total
        );

        // February's three standard referrals are hidden, and so is the
        // total they are part of.
        let feb = &rows[1];
        assert!(
            hidden(feb, "received_standard") && hidden(feb, "received"),
            "{feb}"
        );
        assert_eq!(feb["received_remote"], 0);

        // The same rows as CSV: `*` where JSON says suppressed.
        let response = app.metrics_csv(&token, query).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/csv")
        );
        let text = response.text().await.expect("a CSV body");
        assert_csv_matches_json(&text, rows);
        app.stop().await;
    }
}

/// Each CSV cell equals the JSON field of the same name: `*` for a
/// suppressed one, empty for no value.
fn assert_csv_matches_json(text: &str, rows: &[Value]) {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!text.contains('"'), "no cell needs quoting here");
    assert_eq!(body.len(), rows.len());
    for (cells, row) in body.iter().zip(rows) {
        assert_eq!(cells.len(), head.len());
        for (name, cell) in head.iter().zip(cells) {
            let (field, value) = match name.strip_prefix("outcome_") {
                Some(code) => (format!("outcomes.{code}"), &row["outcomes"][code]),
                None => ((*name).to_owned(), &row[*name]),
            };
            let flagged = row["suppressed"]
                .as_array()
                .expect("a list")
                .iter()
                .any(|f| f == &field);
            match value {
                Value::Null if flagged => assert_eq!(*cell, "*", "{field}"),
                Value::Null => assert_eq!(*cell, "", "{field}"),
                Value::String(s) => assert_eq!(cell, s, "{field}"),
                Value::Number(n) => {
                    let csv: f64 = cell.parse().unwrap_or_else(|_| panic!("{field}={cell}"));
                    assert!(
                        (csv - n.as_f64().expect("a number")).abs() < 1e-12,
                        "{field}"
                    );
                }
                other => panic!("{field} is {other}"),
            }
        }
    }
}

#[tokio::test]
async fn before_and_after_adoption_and_by_sex() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::BoardAdmin, &[BOARD]);
        let report = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-01-01&to=2026-06-30&by=quarter&split=adoption",
            )
            .await,
        )
        .await;
        let rows = report["rows"].as_array().expect("rows");
        let find = |period: &str, group: &str| {
            rows.iter()
                .find(|r| r["period"] == period && r["group"] == group && r["board"] == BOARD)
                .unwrap_or_else(|| panic!("a {period} {group} row in {report}"))
        };
        // Received before 1 March: the ten standard referrals, all in Q1.
        assert_eq!(
            find("2026-Q1", "before")["received"],
            10,
            "{}",
            backend.name()
        );
        assert_eq!(find("2026-Q1", "before")["received_standard"], 10);
        assert_eq!(find("2026-Q1", "after")["received"], 0);
        assert_eq!(find("2026-Q2", "before")["received"], 0);
        let remote = cases
            .iter()
            .filter(|c| c.board == BOARD && c.remote)
            .count() as u64;
        assert_eq!(
            find("2026-Q2", "after")["received_remote"].as_u64(),
            Some(remote)
        );
        assert_eq!(rows.len(), 4, "two quarters × before/after for one board");

        let by_sex = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-04-01&to=2026-06-30&by=quarter&split=sex",
            )
            .await,
        )
        .await;
        for sex in ["female", "male"] {
            let want = cases
                .iter()
                .filter(|c| c.board == BOARD && c.remote)
                .filter(|c| (c.sex == proto::Sex::Female) == (sex == "female"))
                .count() as u64;
            let row = by_sex["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["group"] == sex)
                .unwrap_or_else(|| panic!("a {sex} row: {by_sex}"));
            assert_eq!(row["received"].as_u64(), Some(want), "{sex}");
        }

        // Accepts by priority (all routine here); everything else is `none`.
        let accepted: Vec<u32> = cases
            .iter()
            .filter(|c| c.board == BOARD && c.corrected_to.or(c.outcome) == Some("accept"))
            .map(|c| {
                working_days(
                    c.received.date_naive(),
                    c.vetted.expect("vetted").date_naive(),
                )
            })
            .collect();
        let by_priority = json(
            app.metrics(
                &token,
                "boards=highland&from=2026-04-01&to=2026-06-30&by=quarter&split=priority",
            )
            .await,
        )
        .await;
        let routine = by_priority["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["group"] == "routine")
            .unwrap_or_else(|| panic!("a routine row: {by_priority}"));
        assert_eq!(routine["vetted"].as_u64(), Some(accepted.len() as u64));
        check_quantiles(routine, "wait_working_days", &accepted);
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_parameters_are_named_and_only_evaluators_and_board_admins_see_metrics() {
    let backend = &backends().await[0];
    let mut app = TestApp::spawn(backend).await;
    let evaluator = app.token(Role::Evaluator, &[BOARD]);
    for (query, field) in [
        ("boards=highland&to=2026-02-01", "from"),
        ("boards=highland&from=2026-13-01", "from"),
        ("boards=atlantis&from=2026-01-01", "boards"),
        ("boards=highland&from=2026-01-01&by=fortnight", "by"),
        ("boards=highland&from=2026-03-01&to=2026-02-01", "to"),
        ("boards=highland&from=2026-01-01&split=postcode", "split"),
        ("boards=highland&from=2026-01-01&colour=blue", "colour"),
    ] {
        let response = app.metrics(&evaluator, query).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    let clinician = app.token(Role::Clinician, &[BOARD]);
    let response = app
        .metrics(&clinician, "boards=highland&from=2026-01-01")
        .await;
    assert_eq!(response.status(), 403);
    let elsewhere = app.token(Role::Evaluator, &["lothian"]);
    let response = app
        .metrics(&elsewhere, "boards=highland&from=2026-01-01")
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .http
        .get(format!("{}/v1/metrics?from=2026-01-01", app.base))
        .send()
        .await
        .expect("analytics answers");
    assert_eq!(response.status(), 401);
    let openapi: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("analytics answers")
        .json()
        .await
        .expect("OpenAPI is JSON");
    assert!(openapi["paths"]["/v1/metrics"].is_object());
    assert!(openapi["paths"]["/v1/metrics.csv"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn a_rebuild_from_the_stream_gives_identical_metrics() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let mut before = Vec::new();
        for split in ["", "&split=adoption", "&split=simd"] {
            let query = format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}");
            before.push(json(app.metrics(&token, &query).await).await);
        }
        app.stop().await;

        let mut reports = Vec::new();
        let done = pathway_analytics::rebuild::rebuild(&app.settings, |p| reports.push(p))
            .await
            .expect("the rebuild runs");
        // Every message on the stream, the redelivered copies included.
        let copies = events.div_ceil(3);
        assert_eq!(done.handled, events + copies, "{}", backend.name());
        assert_eq!(done.remaining, 0);
        assert!(reports.len() > 1, "progress is reported as it goes");

        let mut app = app.restart().await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        for (i, split) in ["", "&split=adoption", "&split=simd"].iter().enumerate() {
            let query = format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}");
            let after = json(app.metrics(&token, &query).await).await;
            assert_eq!(after, before[i], "{query} on {}", backend.name());
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_rebuild_in_the_running_service_pauses_the_consumer_and_gives_identical_metrics() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let queries = ["", "&split=adoption", "&split=simd"]
            .map(|split| format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}"));
        let mut before = Vec::new();
        for query in &queries {
            before.push(json(app.metrics(&token, query).await).await);
        }
        let url = format!("{}/v1/rebuild", app.base);

        // Only a board admin for every board may start or follow one.
        let no_token = app.http.post(&url).send().await.expect("an answer");
        assert_eq!(no_token.status(), 401);
        for (role, boards) in [(Role::Evaluator, ["*"]), (Role::BoardAdmin, [BOARD])] {
            let other = app.token(role, &boards);
            for request in [app.http.post(&url), app.http.get(&url)] {
                let answer = request.bearer_auth(&other).send().await.expect("an answer");
                assert_eq!(answer.status(), 403, "{role} for {boards:?}");
            }
        }
        let admin = app.token(Role::BoardAdmin, &["*"]);
        let idle = json(
            app.http
                .get(&url)
                .bearer_auth(&admin)
                .send()
                .await
                .expect("an answer"),
        )
        .await;
        assert_eq!(idle["state"], "idle");

        let started = app
            .http
            .post(&url)
            .bearer_auth(&admin)
            .send()
            .await
            .expect("an answer");
        assert_eq!(started.status(), 202);
        let started: Value = started.json().await.expect("JSON");
        assert_eq!(started["state"], "running");
        assert_eq!(started["requested_by"], "test-board_admin");
        let done = pathway_tests::eventually(std::time::Duration::from_secs(60), || async {
            let status: Value = app
                .http
                .get(&url)
                .bearer_auth(&admin)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (status["state"] != "running").then_some(status)
        })
        .await
        .expect("the rebuild ends within a minute");
        assert_eq!(done["state"], "done", "{done}");
        // Every message on the stream, the redelivered copies included.
        assert_eq!(
            done["handled"],
            events + events.div_ceil(3),
            "{}",
            backend.name()
        );
        assert_eq!(done["remaining"], 0);
        for (query, before) in queries.iter().zip(&before) {
            let after = json(app.metrics(&token, query).await).await;
            assert_eq!(&after, before, "{query} on {}", backend.name());
        }

        // The live consumer is back: a referral published after the rebuild is counted.
        let mut late = cases[0].clone();
        late.id = Uuid::now_v7().to_string();
        let late_events = events_of(&late);
        for event in &late_events {
            app.send(event).await;
        }
        app.wait_until_caught_up(events + late_events.len() as u64)
            .await;
        app.stop().await;
    }
}

#[tokio::test]
async fn the_dashboard_draws_the_same_rows_and_hides_the_same_numbers() {
    let cases = history();
    let backend = &backends().await[0];
    let mut app = TestApp::spawn(backend).await;
    let events = publish_history(&app, &cases).await;
    app.wait_until_caught_up(events).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = format!(
        "{}/dashboard?boards=highland&from=2026-01-01&to=2026-06-30&by=month",
        app.base
    );

    let response = no_redirects.get(&page).send().await.expect("an answer");
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/sign-in");

    let clinician = app.token(Role::Clinician, &[BOARD]);
    let response = no_redirects
        .post(format!("{}/sign-in", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        // A JWT holds only URL-safe characters.
        .body(format!("token={clinician}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 422);

    let evaluator = app.token(Role::Evaluator, &[BOARD]);
    let response = no_redirects
        .post(format!("{}/sign-in", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        // A JWT holds only URL-safe characters.
        .body(format!("token={evaluator}"))
        .send()
        .await
        .expect("an answer");
    assert!(response.status().is_redirection());
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("a name=value")
        .to_owned();
    assert!(cookie.starts_with("pathway_analytics_session="));

    let response = no_redirects
        .get(&page)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("HTML");
    assert_eq!(html.matches("<svg").count(), 2, "two charts for one group");
    // January's seven standard referrals are shown, February's three are not.
    assert!(
        html.contains("<th scope=\"row\">2026-01</th><td class=\"num\">7 (0 / 7)</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">2026-02</th><td class=\"num\">* (0 / *)</td>"),
        "{html}"
    );
    assert!(!html.contains(">3 (0 / 3)<"));

    let response = no_redirects
        .get(format!(
            "{}/dashboard?boards=highland&from=2026-01-01&by=fortnight",
            app.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 400);
    let html = response.text().await.expect("HTML");
    assert!(
        html.contains("href=\"#by\""),
        "the error links to the field: {html}"
    );
    app.stop().await;
}

/// (reference, received, vetted, outcome) of a board's history before the pathway.
const BASELINE: [(&str, &str, &str, &str); 8] = [
    ("H-001", "2025-12-01", "2025-12-05", "accept"),
    ("H-002", "2025-12-22", "2026-01-05", "physiotherapy"),
    ("H-003", "2025-12-10", "2025-12-12", "accept"),
    ("H-004", "2025-12-15", "2025-12-29", "advice_to_referrer"),
    ("H-005", "2025-12-03", "2025-12-03", "accept"),
    ("H-006", "2025-12-19", "2026-01-06", "accept"),
    ("H-007", "2025-12-23", "2025-12-31", "self_management"),
    ("H-008", "2025-12-11", "2025-12-30", "accept"),
];

async fn post_baseline(app: &TestApp, token: &str, board: &str, file: String) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/baseline?board={board}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .expect("analytics answers")
}

#[tokio::test]
async fn a_baseline_file_loads_whole_or_not_at_all_and_survives_a_rebuild() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &[BOARD]);
        let evaluator = app.token(Role::Evaluator, &[BOARD]);
        let query = "boards=highland&from=2025-12-01&to=2025-12-31&by=month";

        let bad = "reference,received_on,vetted_on,outcome\n\
                   H-001,2025-12-01,2025-12-05,accept\n\
                   H-002,2025-12-32,,\n\
                   H-003,2025-12-10,2025-12-12,surgery\n"
            .to_owned();
        let response = post_baseline(&app, &admin, BOARD, bad).await;
        assert_eq!(response.status(), 422, "{}", backend.name());
        let body: Value = response.json().await.expect("a JSON error");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("a field"))
            .collect();
        assert_eq!(fields, ["line 3.received_on", "line 4.outcome"], "{body}");
        assert_eq!(body["rejected_rows"], 2);
        let report = json(app.metrics(&evaluator, query).await).await;
        assert_eq!(report["rows"][0]["received"], 0, "nothing half-loaded");

        let mut file = "reference,received_on,vetted_on,outcome,sex\n".to_owned();
        for (reference, received, vetted, outcome) in BASELINE {
            file.push_str(&format!(
                "{reference},{received},{vetted},{outcome},female\n"
            ));
        }
        let response = post_baseline(&app, &evaluator, BOARD, file.clone()).await;
        assert_eq!(response.status(), 403, "only a board admin imports");
        let loaded = json(post_baseline(&app, &admin, BOARD, file.clone()).await).await;
        assert_eq!(loaded["loaded"], 8);
        assert_eq!(loaded["replaced"], 0);
        // Loading the same file again replaces, never doubles.
        let again = json(post_baseline(&app, &admin, BOARD, file).await).await;
        assert_eq!(again["replaced"], 8);

        let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a date");
        let december: Vec<u32> = BASELINE
            .iter()
            .filter(|(_, _, vetted, _)| vetted.starts_with("2025-12"))
            .map(|(_, received, vetted, _)| working_days(parse(received), parse(vetted)))
            .collect();
        let check = |report: &Value| {
            let row = &report["rows"][0];
            assert_eq!(row["received_standard"], 8, "{row}");
            assert_eq!(row["vetted"].as_u64(), Some(december.len() as u64), "{row}");
            check_quantiles(row, "wait_working_days", &december);
        };
        check(&json(app.metrics(&evaluator, query).await).await);

        app.stop().await;
        pathway_analytics::rebuild::rebuild(&app.settings, |_| {})
            .await
            .expect("the rebuild runs");
        let mut app = app.restart().await;
        let evaluator = app.token(Role::Evaluator, &[BOARD]);
        check(&json(app.metrics(&evaluator, query).await).await);
        app.stop().await;
    }
}

#[tokio::test]
async fn re_referrals_after_advice_are_found_by_pseudonym_within_6_and_12_months() {
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let mut events = Vec::new();
        let referral = |pseudonym: &str, received: DateTime<Utc>| {
            let case = Case {
                id: Uuid::now_v7().to_string(),
                board: BOARD,
                remote: true,
                received,
                sex: proto::Sex::Female,
                pause: None,
                vetted: None,
                outcome: None,
                corrected_to: None,
                withdrawn: None,
                notification_failed: false,
            };
            let mut received_event = events_of(&case).remove(0);
            if let Some(Payload::ReferralReceived(r)) = &mut received_event.payload {
                r.patient.as_mut().expect("attributes").patient_pseudonym = pseudonym.to_owned();
            }
            (case, received_event)
        };
        for i in 0..10u32 {
            let pseudonym = format!("patient-{i}");
            let received = Utc
                .with_ymd_and_hms(2025, 1, 6 + i, 9, 0, 0)
                .single()
                .expect("a time");
            let vetted = received + Duration::days(2);
            let (case, first) = referral(&pseudonym, received);
            events.push(first);
            events.extend(
                events_of(&Case {
                    vetted: Some(vetted),
                    outcome: Some("advice_to_referrer"),
                    ..case
                })
                .into_iter()
                .filter(|e| matches!(e.payload, Some(Payload::VettingCompleted(_)))),
            );
            // Half come back within 6 months, the rest within 12.
            let months_later = if i < 5 { 60 } else { 270 };
            events.push(referral(&pseudonym, vetted + Duration::days(months_later)).1);
        }
        for event in &events {
            app.send(event).await;
        }
        app.wait_until_caught_up(events.len() as u64).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let report = json(
            app.metrics(
                &token,
                "boards=highland&from=2025-01-01&to=2025-01-31&by=month",
            )
            .await,
        )
        .await;
        let row = &report["rows"][0];
        assert_eq!(row["vetted"], 10, "{} {row}", backend.name());
        assert_eq!(row["re_referral_followed_6m"], 10);
        assert_eq!(row["re_referred_6m"], 5);
        assert_eq!(row["re_referral_rate_6m"], 0.5);
        assert_eq!(row["re_referral_followed_12m"], 10);
        assert_eq!(row["re_referred_12m"], 10);
        assert_eq!(row["re_referral_rate_12m"], 1.0);
        app.stop().await;
    }
}
