//! Years of referrals received, vetted, asked about, answered and withdrawn
//! within minutes of midnight, in summer and in winter, on the nights the
//! clocks change and across the new year: the metrics by month and by
//! quarter equal what `expected` works out from the events in Scottish
//! days.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1 as proto;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use uuid::Uuid;

use super::expected::{check_rows, expected_by, month, quarter};
use super::history::{Case, publish_history};
use super::{BOARD, json, scottish_day};

const OUTCOMES: [&str; 5] = [
    "accept",
    "advice_to_referrer",
    "physiotherapy",
    "pain_psychology",
    "self_management",
];

/// Minutes from UTC midnight at which the referrals around each month's
/// start are received: in summer, 23:10 to 23:40 UTC are already the next
/// Scottish day (00:10 to 00:40 BST); 22:20 UTC is not.
const AROUND_MIDNIGHT: [i64; 8] = [-100, -50, -35, -20, 10, 25, 40, 70];

/// 00:30 on Scotland's clock either side of each clock change, 2024 to
/// 2026: the Sunday the clocks go forward (still GMT) and the Monday after
/// (BST); the Sunday they go back (still BST at 00:30) and the Monday
/// after (GMT).
const CLOCK_CHANGE_NIGHTS: [&str; 12] = [
    "2024-03-31T00:30:00Z",
    "2024-03-31T23:30:00Z",
    "2024-10-26T23:30:00Z",
    "2024-10-28T00:30:00Z",
    "2025-03-30T00:30:00Z",
    "2025-03-30T23:30:00Z",
    "2025-10-25T23:30:00Z",
    "2025-10-27T00:30:00Z",
    "2026-03-29T00:30:00Z",
    "2026-03-29T23:30:00Z",
    "2026-10-24T23:30:00Z",
    "2026-10-26T00:30:00Z",
];

/// A referral received at `received`, the `i`th of the history: vetted
/// some days later just after or before midnight, sometimes asked about,
/// sometimes withdrawn instead.
fn case(i: usize, received: DateTime<Utc>) -> Case {
    let lag = (i * 5 % 13) as i64;
    let withdrawn = (i % 9 == 8).then(|| received + Duration::days(3) + Duration::minutes(17));
    let vetted = withdrawn
        .is_none()
        .then(|| received + Duration::days(lag) + Duration::minutes(5 + (i * 7 % 50) as i64));
    let pause = match vetted {
        Some(v) if lag >= 3 && i % 4 == 1 => {
            let asked = received + Duration::days(1) + Duration::minutes(3);
            let answered =
                asked + Duration::days(1 + (i % 3) as i64) + Duration::minutes((i % 40) as i64);
            Some((asked, (answered < v).then_some(answered)))
        }
        _ => None,
    };
    Case {
        id: Uuid::now_v7().to_string(),
        board: BOARD,
        remote: !i.is_multiple_of(5),
        received,
        sex: if i.is_multiple_of(2) {
            proto::Sex::Female
        } else {
            proto::Sex::Male
        },
        pause,
        vetted,
        outcome: vetted.map(|_| OUTCOMES[i % OUTCOMES.len()]),
        corrected_to: None,
        withdrawn,
        notification_failed: vetted.is_some() && i % 6 == 1,
    }
}

/// Eight referrals around the start of each month from January 2024 to
/// October 2026 (the first around New Year's Eve 2023), and the clock
/// change nights.
fn midnights() -> Vec<Case> {
    let mut starts = Vec::new();
    let mut first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date");
    while first <= NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date") {
        starts.push(Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight")));
        first = first
            .checked_add_months(chrono::Months::new(1))
            .expect("a next month");
    }
    let mut instants: Vec<DateTime<Utc>> = starts
        .iter()
        .flat_map(|start| AROUND_MIDNIGHT.map(|m| *start + Duration::minutes(m)))
        .collect();
    instants.extend(CLOCK_CHANGE_NIGHTS.map(|t| t.parse::<DateTime<Utc>>().expect("an instant")));
    instants
        .into_iter()
        .enumerate()
        .map(|(i, received)| case(i, received))
        .collect()
}

#[tokio::test]
async fn years_of_referrals_around_midnight_count_on_their_scottish_days() {
    let cases = midnights();
    // The history is one where Scottish and UTC days part: otherwise this
    // test could not tell them apart.
    let parted = |at: DateTime<Utc>| month(scottish_day(at)) != month(at.date_naive());
    assert!(cases.iter().filter(|c| parted(c.received)).count() >= 20);
    assert!(
        cases
            .iter()
            .filter_map(|c| c.vetted)
            .filter(|v| scottish_day(*v) != v.date_naive())
            .count()
            >= 20
    );
    let years: std::collections::BTreeSet<i32> = cases
        .iter()
        .map(|c| scottish_day(c.received).year())
        .collect();
    assert_eq!(
        years.into_iter().collect::<Vec<_>>(),
        [2023, 2024, 2025, 2026]
    );

    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        // The range ends on 30 September: what happened from 00:00 BST on
        // 1 October (23:00 UTC on the 30th) is after it.
        for (by, period, periods) in [
            ("month", month as fn(NaiveDate) -> String, 33),
            ("quarter", quarter, 11),
        ] {
            let expected = expected_by(&cases, |_| true, period);
            let query = format!("boards=highland&from=2024-01-01&to=2026-09-30&by={by}");
            let report = json(app.metrics(&token, &query).await).await;
            let rows = report["rows"].as_array().expect("rows");
            assert_eq!(rows.len(), periods, "{by} on {}", backend.name());
            let vetted = check_rows(rows, &expected);
            let want = cases
                .iter()
                .filter_map(|c| c.vetted)
                .map(scottish_day)
                .filter(|d| {
                    (NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date")
                        ..=NaiveDate::from_ymd_opt(2026, 9, 30).expect("a date"))
                        .contains(d)
                })
                .count() as u64;
            assert_eq!(vetted, want, "{by} on {}", backend.name());
        }
        app.stop().await;
    }
}
