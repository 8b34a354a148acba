//! Which day a referral is received on, and so whether its board is on the
//! pathway and how old the patient is, is the Scottish day: tried at 00:30
//! on Scotland's clock on both sides of each clock change and of the new
//! year. The clocks go forward at 01:00 GMT on Sunday 29 March 2026 and back
//! at 02:00 BST on Sunday 25 October 2026.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use pathway_intake::domain::Status;
use pathway_proto::v1::Payload;
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::{chi_for, set, valid_referral};
use serde_json::json;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

/// (board, the Scottish day it switches on, 23:30 the evening before on
/// Scotland's clock, 00:30 that day on Scotland's clock), instants in UTC.
fn switch_ons() -> [(&'static str, &'static str, DateTime<Utc>, DateTime<Utc>); 5] {
    [
        // Before the clocks go forward: GMT, as UTC.
        (
            "fife",
            "2026-03-29",
            utc(2026, 3, 28, 23, 30),
            utc(2026, 3, 29, 0, 30),
        ),
        // After: 00:30 BST on the 30th is still the 29th in UTC.
        (
            "lothian",
            "2026-03-30",
            utc(2026, 3, 29, 22, 30),
            utc(2026, 3, 29, 23, 30),
        ),
        // Before the clocks go back: 00:30 BST on the 25th.
        (
            "tayside",
            "2026-10-25",
            utc(2026, 10, 24, 22, 30),
            utc(2026, 10, 24, 23, 30),
        ),
        // After: GMT again, and 23:30 on the 25th is a 25-hour day's end.
        (
            "grampian",
            "2026-10-26",
            utc(2026, 10, 25, 23, 30),
            utc(2026, 10, 26, 0, 30),
        ),
        // Across the new year.
        (
            "borders",
            "2027-01-01",
            utc(2026, 12, 31, 23, 30),
            utc(2027, 1, 1, 0, 30),
        ),
    ]
}

#[tokio::test]
async fn a_board_switched_on_from_a_day_takes_referrals_from_its_scottish_midnight() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        for (board, from, evening_before, half_past_midnight) in switch_ons() {
            let switched = app.switch_board(board, true, Some(from)).await;
            assert_eq!(switched.status(), 200, "{board}");

            let before = app.refer_at(&valid_referral(board), evening_before).await;
            assert_eq!(
                before.status,
                Status::RoutedStandard,
                "{board}: received at {evening_before}, the day before {from} ({})",
                backend.name()
            );
            let after = app
                .refer_at(&valid_referral(board), half_past_midnight)
                .await;
            assert_eq!(
                after.status,
                Status::AwaitingVetting,
                "{board}: received at {half_past_midnight}, on {from} ({})",
                backend.name()
            );
            assert_eq!(after.received_at, half_past_midnight);
        }
    }
}

#[tokio::test]
async fn a_switch_with_no_date_applies_from_the_scottish_day_it_is_made() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        for (board, today, evening_before, half_past_midnight) in switch_ons() {
            let switched = app.enable_board_at(board, half_past_midnight).await;
            assert_eq!(
                switched.since,
                Some(day(today)),
                "{board} ({})",
                backend.name()
            );
            assert!(switched.pathway_enabled, "{board}");
            assert_eq!(switched.changes[0].effective_date, day(today));

            // The board list an hour earlier, on the evening before: not yet.
            let listed = app.board_at(board, evening_before).await;
            assert!(!listed.pathway_enabled, "{board} at {evening_before}");
            assert_eq!(listed.since, None);
            let listed = app.board_at(board, half_past_midnight).await;
            assert!(listed.pathway_enabled, "{board} at {half_past_midnight}");
        }
    }
}

#[tokio::test]
async fn the_patients_age_is_taken_on_the_scottish_day_of_receipt() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        // (born, received at, the age band that day)
        let cases = [
            // 45 on 29 March 2026, received at 00:30 GMT that day.
            ("1981-03-29", utc(2026, 3, 29, 0, 30), "45-54"),
            // 45 on 30 March, received at 00:30 BST that day (29th in UTC).
            ("1981-03-30", utc(2026, 3, 29, 23, 30), "45-54"),
            // Born that very Scottish day: not a birth date in the future.
            ("2026-03-30", utc(2026, 3, 29, 23, 30), "0-15"),
            // 45 on 25 October, received at 00:30 BST that day.
            ("1981-10-25", utc(2026, 10, 24, 23, 30), "45-54"),
            // 45 on 26 October, received at 00:30 GMT that day.
            ("1981-10-26", utc(2026, 10, 26, 0, 30), "45-54"),
            // 45 on New Year's Day: still 44 at 23:30 on Hogmanay.
            ("1982-01-01", utc(2026, 12, 31, 23, 30), "35-44"),
            ("1982-01-01", utc(2027, 1, 1, 0, 30), "45-54"),
        ];
        let mut received = Vec::new();
        for (serial, (born, at, band)) in cases.into_iter().enumerate() {
            let mut body = valid_referral("highland");
            let ddmmyy = format!("{}{}{}", &born[8..10], &born[5..7], &born[2..4]);
            let chi = chi_for(&ddmmyy, false, 90 + serial as u32);
            set(&mut body, "patient.chi", json!(chi));
            set(&mut body, "patient.date_of_birth", json!(born));
            let summary = app.refer_at(&body, at).await;
            received.push((summary.id, born, at, band));
        }

        let events = app.wait_for_events(received.len()).await;
        for (id, born, at, band) in received {
            let patient = events
                .iter()
                .find(|e| e.event.referral_id == id)
                .and_then(|e| match &e.event.payload {
                    Some(Payload::ReferralRoutedStandard(r)) => r.patient.clone(),
                    Some(Payload::ReferralReceived(r)) => r.patient.clone(),
                    _ => None,
                })
                .expect("the referral is announced with its patient's attributes");
            assert_eq!(
                patient.age_band,
                band,
                "born {born}, received at {at} ({})",
                backend.name()
            );
        }
    }
}
