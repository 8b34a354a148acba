//! The gateway's delivery receipts: a message that never arrived is marked
//! failed.

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_notification::store::delivery::Status;
use pathway_proto::v1::Payload;
use pathway_tests::backends;
use pathway_tests::notification::{CALLBACK_TOKEN, decision_recorded};
use pathway_tests::referrals::valid_referral;
use serde_json::json;

use super::{accept, patient, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_callback_marks_a_message_that_never_arrived_as_failed() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referral = s.intake.refer(&valid_referral("highland")).await;
        s.app
            .send(&decision_recorded("highland", &referral, accept()))
            .await;
        let rows = s.app.wait_until_settled(&referral, 2).await;
        let sms = patient(&rows).clone();
        let gateway_id = sms.gateway_id.clone().expect("the gateway's id");
        let callback = |status: &str| {
            json!({
                "id": gateway_id, "reference": sms.id, "to": "07700900123",
                "status": status, "notification_type": "sms",
                "created_at": "2026-01-01T00:00:00.000000Z",
            })
        };

        let forged = s
            .app
            .callback("not-the-token", &callback("delivered"))
            .await;
        assert_eq!(forged.status(), 401, "{}", backend.name());
        let unknown = s
            .app
            .callback(
                CALLBACK_TOKEN,
                &json!({"id": "x", "reference": uuid::Uuid::now_v7().to_string(), "status": "delivered"}),
            )
            .await;
        assert_eq!(unknown.status(), 404);

        let delivered = s.app.callback(CALLBACK_TOKEN, &callback("delivered")).await;
        assert_eq!(delivered.status(), 204);
        let row = patient(&s.app.deliveries(&referral).await).clone();
        assert_eq!(
            (row.status, row.gateway_status.as_deref()),
            (Status::Sent, Some("delivered"))
        );

        let failed = s
            .app
            .callback(CALLBACK_TOKEN, &callback("permanent-failure"))
            .await;
        assert_eq!(failed.status(), 204);
        let row = patient(&s.app.deliveries(&referral).await).clone();
        assert_eq!(row.status, Status::Failed);
        assert!(
            row.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("permanent-failure")
        );
        let events = s.app.wait_for_notification_events(&referral, 3).await;
        assert!(events.iter().any(|p| matches!(p,
            Payload::NotificationFailed(f) if f.delivery_id == sms.id)));

        // The number was emptied once sent: a retry asks intake again.
        let admin = s.app.token(Role::BoardAdmin, &["highland"]);
        let retried = s
            .app
            .post(&admin, &format!("/v1/deliveries/{}/retry", sms.id))
            .await;
        assert_eq!(retried.status(), 202);
        let rows = s.app.wait_until_settled(&referral, 2).await;
        assert_eq!(patient(&rows).status, Status::Sent);
        let taken = s.gateway.taken();
        assert_eq!(taken.len(), 2, "sent again, once");
        assert_eq!(taken[1].body["phone_number"], "07700900123");
        s.stop().await;
    }
}
