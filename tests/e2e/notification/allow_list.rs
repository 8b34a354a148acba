//! A board's webhooks go only to the hosts it listed: intake refuses board
//! settings naming another host (or a private address the board does not
//! allow) and a referral whose webhook reply address is off the list, each
//! with the field and the reason.

use pathway_common::auth::Role;
use pathway_tests::backends;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::referrals::{set, valid_referral};
use serde_json::{Value, json};

/// The `(field, reason)` of each problem a 422 names.
async fn problems(response: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("JSON");
    error["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default().to_owned(),
                f["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_of_a_board_go_only_to_the_hosts_it_listed() {
    for backend in backends().await {
        let mut intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        intake.enable_board("fife").await;
        let admin = intake.token(Role::BoardAdmin, &["highland"]);
        let with = |notification: Value| {
            let mut document = IntakeApp::example_board_settings();
            document["notification"] = notification;
            document.to_string()
        };

        // A host the board did not list; a loopback address it does not allow.
        let response = intake
            .put_board_settings(
                &admin,
                "highland",
                &with(json!({
                    "gp_webhook_url": "https://gp.highland.example/pathway",
                    "receiving_services": {"residential_programme": "http://127.0.0.1:9/in"},
                    "allowed_hosts": ["*.other.example", "127.0.0.1"],
                })),
            )
            .await;
        let found = problems(response).await;
        assert_eq!(found.len(), 2, "{}: {found:?}", backend.name());
        assert_eq!(found[0].0, "notification.gp_webhook_url");
        assert!(
            found[0]
                .1
                .contains("gp.highland.example is not on the board's allowed hosts"),
            "{found:?}"
        );
        assert_eq!(
            found[1].0,
            "notification.receiving_services.residential_programme"
        );
        assert!(
            found[1].1.contains("127.0.0.1 is a loopback address"),
            "{found:?}"
        );

        // Listed by wildcard, the private address allowed explicitly.
        let response = intake
            .put_board_settings(
                &admin,
                "highland",
                &with(json!({
                    "gp_webhook_url": "https://gp.highland.example/pathway",
                    "receiving_services": {"residential_programme": "http://127.0.0.1:9/in"},
                    "allowed_hosts": ["*.highland.example", "127.0.0.1"],
                    "allow_private_addresses": true,
                })),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );

        // A referral's own webhook reply address must be on the list too.
        let referrer = intake.token(Role::Referrer, &["highland", "fife"]);
        let replying_to = |board: &str, url: &str| {
            let mut body = valid_referral(board);
            set(&mut body, "referrer.reply_channel", json!("webhook"));
            set(&mut body, "referrer.reply_address", json!(url));
            body
        };
        let response = intake
            .post_referral(
                &referrer,
                &replying_to("highland", "https://gp.elsewhere.example/in"),
            )
            .await;
        let found = problems(response).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "referrer.reply_address");
        assert!(
            found[0].1.contains("gp.elsewhere.example is not on"),
            "{found:?}"
        );
        let response = intake
            .post_referral(
                &referrer,
                &replying_to("highland", "https://practice-42.highland.example/in"),
            )
            .await;
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        // A board that never listed a host takes no webhook reply address.
        let response = intake
            .post_referral(
                &referrer,
                &replying_to("fife", "https://gp.fife.example/in"),
            )
            .await;
        let found = problems(response).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "referrer.reply_address");
        assert!(
            found[0].1.contains("notification.allowed_hosts"),
            "{found:?}"
        );

        intake.stop().await;
    }
}
