//! Scottish days on the worklist: a referral received at 00:30 on a summer
//! night was received that day, on the worklist page and in the working days
//! its wait counts, on both sides of each clock change (forward on Sunday 29
//! March 2026 at 01:00 GMT, back on Sunday 25 October 2026 at 02:00 BST) and
//! across the new year.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_proto::calendar::WorkingCalendar;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::referrals::valid_referral;
use serde_json::Value;

use super::Stack;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Receipts at 00:30 on Scotland's clock, with the day a clinician in
/// Scotland says each was received and how the worklist page writes it.
fn receipts() -> [(&'static str, NaiveDate, &'static str); 6] {
    [
        // Sunday before the clocks go forward: still GMT.
        ("2026-03-29T00:30:00Z", ymd(2026, 3, 29), "29 Mar 2026"),
        // Monday after: BST, so 23:30 UTC on the Sunday.
        ("2026-03-29T23:30:00Z", ymd(2026, 3, 30), "30 Mar 2026"),
        // A weekday in summer time before the clocks go back.
        ("2026-10-22T23:30:00Z", ymd(2026, 10, 23), "23 Oct 2026"),
        // Sunday the clocks go back, before 02:00: still BST.
        ("2026-10-24T23:30:00Z", ymd(2026, 10, 25), "25 Oct 2026"),
        // Monday after: GMT.
        ("2026-10-26T00:30:00Z", ymd(2026, 10, 26), "26 Oct 2026"),
        // New Year's Eve.
        ("2026-12-31T23:30:00Z", ymd(2026, 12, 31), "31 Dec 2026"),
    ]
}

#[tokio::test]
async fn a_wait_counts_from_the_scottish_day_a_referral_was_received() {
    for backend in backends().await {
        let stack = Stack::start(&backend).await;
        let dr = stack.clinician("dr-a");
        // A real referral's event, published again for new referrals
        // received at the instants under test.
        let first = stack.referral(valid_referral("highland")).await;
        let template = stack.wait_for_event(&first, ("referral", "received")).await;
        let mut ids = Vec::new();
        for (at, _, _) in receipts() {
            let mut event = template.clone();
            let id = uuid::Uuid::now_v7().to_string();
            event.event_id = uuid::Uuid::now_v7().to_string();
            event.referral_id.clone_from(&id);
            let Some(Payload::ReferralReceived(received)) = &mut event.payload else {
                panic!("referral.received without its payload");
            };
            received.received_at = Some(proto::timestamp(utc(at)));
            stack.publish(&event).await;
            stack.vetting.wait_for_referral("highland", &id).await;
            ids.push(id);
        }

        // The recomputation: working days on Scotland's calendar from the
        // day each was received, as written above.
        let calendar = WorkingCalendar::new(true, &[]);
        for (now, today) in [
            // 00:30 on Tuesday 31 March, in summer time.
            ("2026-03-30T23:30:00Z", ymd(2026, 3, 31)),
            // 00:30 on Sunday 25 October, still summer time.
            ("2026-10-24T23:30:00Z", ymd(2026, 10, 25)),
            // Midday on Tuesday 5 January 2027, after the new year's
            // holidays (1 January, and Monday 4 January for the 2nd).
            ("2027-01-05T12:00:00Z", ymd(2027, 1, 5)),
        ] {
            let clock = &stack.vetting.clock;
            clock.advance(utc(now) - clock.now());
            let list = stack.vetting.worklist(&dr, "highland", "").await;
            for ((at, received, _), id) in receipts().iter().zip(&ids) {
                let row = list["referrals"]
                    .as_array()
                    .and_then(|rows| rows.iter().find(|r| r["referral_id"] == id.as_str()))
                    .unwrap_or_else(|| panic!("{id} is not on the worklist"));
                assert_eq!(
                    row["waited_working_days"],
                    Value::from(calendar.working_days_between(*received, today)),
                    "received {at}, now {now} ({})",
                    backend.name()
                );
            }
        }

        // The worklist page shows the day each was received.
        let html = stack
            .vetting
            .http
            .get(format!("{}/worklist", stack.vetting.base))
            .bearer_auth(&dr)
            .send()
            .await
            .expect("the worklist page answers")
            .text()
            .await
            .expect("HTML");
        for ((at, _, shown), id) in receipts().iter().zip(&ids) {
            let link = format!("/referrals/{id}\"");
            let start = html
                .find(&link)
                .unwrap_or_else(|| panic!("{id} is not on the worklist page"));
            let cell = &html[start..];
            let cell = &cell[..cell.find("</td>").unwrap_or(cell.len())];
            assert!(
                cell.contains(&format!("received {shown}")),
                "received {at}: {cell}"
            );
        }
    }
}
