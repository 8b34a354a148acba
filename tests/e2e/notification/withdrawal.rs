//! A referrer withdraws a referral: they get a confirmation naming their
//! reason, and the patient is told too, unless the board's settings say
//! not to (`notification.tell_patient_of_withdrawal: false`).

use std::time::Duration;

use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};
use serde_json::json;

use super::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_confirmed_to_the_referrer_and_told_to_the_patient_where_the_board_says() {
    for backend in backends().await {
        let s = setup(&backend, Workers::default()).await;
        let referrer = s.intake.token(Role::Referrer, &["highland"]);
        let withdraw = |id: String| {
            let (intake, referrer) = (&s.intake, referrer.clone());
            async move {
                let response = intake
                    .referral_action(
                        &referrer,
                        &id,
                        "withdraw",
                        &json!({"reason_code": "patient_request"}),
                    )
                    .await;
                assert_eq!(response.status(), 200, "{:?}", response.text().await);
            }
        };

        // By default both are told.
        let id = s.intake.refer(&valid_referral("highland")).await;
        withdraw(id.clone()).await;
        let rows = s.app.wait_until_settled(&id, 2).await;
        let mut templates: Vec<&str> = rows.iter().map(|r| r.template.as_str()).collect();
        templates.sort_unstable();
        assert_eq!(
            templates,
            ["patient/withdrawn", "referrer/withdrawn"],
            "{rows:?}"
        );
        let gp = eventually(Duration::from_secs(10), || async {
            s.receiver
                .hooks()
                .into_iter()
                .find(|h| h.document["referral_id"] == id.as_str())
        })
        .await
        .expect("the GP system is told");
        assert_eq!(gp.document["type"], "pathway.referral_withdrawn");
        assert_eq!(gp.document["reason"], "at the patient's request");
        let body = gp.document["message"]["body"].as_str().unwrap_or_default();
        assert!(body.contains("withdrawn as you asked"), "{body}");
        // Sent once the patient's SMS was: it says so, on the Scottish day.
        let today = pathway_proto::days::today().format("%-d %B %Y").to_string();
        assert!(
            body.contains(&format!("The patient has been told by SMS on {today}.")),
            "{body}"
        );
        let sms = s
            .gateway
            .taken()
            .into_iter()
            .find(|t| {
                t.reference.contains(
                    &rows
                        .iter()
                        .find(|r| r.recipient == "patient")
                        .expect("the patient's")
                        .id,
                )
            })
            .expect("the patient's SMS reached the gateway");
        assert_eq!(sms.kind, "sms");

        // A board that says not to: only the referrer.
        let mut document = pathway_tests::intake::TestApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "referrer_channel": "webhook",
            "gp_webhook_url": s.receiver.url("gp"),
            "allow_private_addresses": true,
            "allowed_hosts": ["127.0.0.1"],
            "tell_patient_of_withdrawal": false,
        });
        let admin = s.intake.token(Role::BoardAdmin, &["highland"]);
        let saved = s
            .intake
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(saved.status(), 200, "{:?}", saved.text().await);
        eventually(Duration::from_secs(15), || async {
            s.app
                .board_notification("highland")
                .await
                .and_then(|row| row.notification_json)
                .filter(|json| json.contains("tell_patient_of_withdrawal"))
        })
        .await
        .expect("notification keeps the board's settings");
        let quiet = s.intake.refer(&valid_referral("highland")).await;
        withdraw(quiet.clone()).await;
        let rows = s.app.wait_until_settled(&quiet, 1).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].template, "referrer/withdrawn");
        let gp = eventually(Duration::from_secs(10), || async {
            s.receiver
                .hooks()
                .into_iter()
                .find(|h| h.document["referral_id"] == quiet.as_str())
        })
        .await
        .expect("the GP system is told");
        let body = gp.document["message"]["body"].as_str().unwrap_or_default();
        assert!(
            !body.contains("The patient"),
            "nothing said of the patient: {body}"
        );
        s.stop().await;
    }
}
