//! Re-referral after advice: a patient referred again within 6 or 12 months,
//! found by pseudonym.

use chrono::{DateTime, Duration, TimeZone, Utc};
use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use uuid::Uuid;

use super::history::{Case, events_of};
use super::{BOARD, json};

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
