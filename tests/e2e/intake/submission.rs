//! A referral stored once, read back, audited and announced on the stream.

use pathway_common::auth::Role;
use pathway_proto::v1::{self as proto, Payload};
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use serde_json::{Value, json};

use super::{audit_rows, referral_rows};

#[tokio::test]
async fn a_referral_is_stored_once_and_announced_on_the_stream() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        app.enable_board("highland").await;
        let body = valid_referral("highland");
        let token = app.token(Role::Referrer, &["highland"]);

        let response = app.post_referral(&token, &body).await;
        assert_eq!(response.status(), 201, "{}", backend.name());
        assert!(response.headers().get("location").is_some());
        let created: Value = response.json().await.expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");
        assert_eq!(created["route"], "remote_pathway");
        let id = created["id"].as_str().expect("id").to_owned();

        // The referrer can read it back, with its status, history and actions.
        let response = app.get_referral(&token, &id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("etag").and_then(|v| v.to_str().ok()),
            Some("\"1\"")
        );
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["status"], "awaiting_vetting");
        assert_eq!(view["referral"]["patient"]["chi"], body["patient"]["chi"]);
        assert_eq!(view["history"][0]["event"], "referral.received");
        assert_eq!(view["allowed_actions"], json!(["withdraw"]));

        // One event, on the board's subject, de-duplicated by its id, traced.
        let events = app.wait_for_events(2).await;
        let received: Vec<_> = events
            .iter()
            .filter(|e| matches!(e.event.payload, Some(Payload::ReferralReceived(_))))
            .collect();
        assert_eq!(received.len(), 1);
        let message = received[0];
        assert_eq!(message.subject, "pathway.v1.highland.referral.received");
        assert_eq!(message.event.referral_id, id);
        let headers = message.headers.as_ref().expect("headers");
        assert_eq!(
            headers.get("Nats-Msg-Id").map(|v| v.as_str()),
            Some(message.event.event_id.as_str())
        );
        assert!(
            headers.get("traceparent").is_some(),
            "trace context travels with the event"
        );
        let Some(Payload::ReferralReceived(payload)) = &message.event.payload else {
            unreachable!()
        };
        let patient = payload.patient.as_ref().expect("attributes");
        assert_eq!(
            patient.age_band,
            age_band_of(body["patient"]["date_of_birth"].as_str().expect("dob"))
        );
        assert_eq!(patient.sex, proto::Sex::Female as i32);
        assert_eq!(
            (patient.urban_rural_class, patient.simd_quintile),
            (3, 4),
            "from the postcode lookup"
        );
        assert_eq!(patient.patient_pseudonym.len(), 64);
        assert_eq!(payload.pain_intensity, 7);

        // The creation and the read each left one audit row.
        assert_eq!(audit_rows(&app, "referral.create", &id).await, 1);
        assert_eq!(audit_rows(&app, "referral.read", &id).await, 1);
        assert_eq!(referral_rows(&app).await, 1);
    }
}

/// The age band worked out here from first principles (whole years on
/// today's date in Scotland).
fn age_band_of(dob: &str) -> String {
    let dob = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").expect("date");
    let years = pathway_proto::days::today()
        .years_since(dob)
        .expect("born in the past");
    let bands = [
        (0, 15),
        (16, 24),
        (25, 34),
        (35, 44),
        (45, 54),
        (55, 64),
        (65, 74),
        (75, 84),
    ];
    bands
        .iter()
        .find(|(low, high)| (*low..=*high).contains(&years))
        .map_or_else(|| "85+".to_owned(), |(low, high)| format!("{low}-{high}"))
}
