//! A board's pathway switched on and off at once, by its own board admin only.

use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use serde_json::{Value, json};

#[tokio::test]
async fn a_board_switch_takes_effect_at_once_without_a_restart() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let token = app.token(Role::Referrer, &["fife"]);

        // Never switched on: the standard route.
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "routed_standard");

        app.enable_board("fife").await;
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");

        // A switch-off from a future date leaves it on today.
        let tomorrow = (pathway_proto::days::today() + chrono::Days::new(1)).to_string();
        assert_eq!(
            app.switch_board("fife", false, Some(&tomorrow))
                .await
                .status(),
            200
        );
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "awaiting_vetting");

        assert_eq!(app.switch_board("fife", false, None).await.status(), 200);
        let created: Value = app
            .post_referral(&token, &valid_referral("fife"))
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(created["status"], "routed_standard");

        // The board list shows the switch with who and when.
        let boards: Value = app
            .http
            .get(format!("{}/v1/boards", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON");
        assert_eq!(boards.as_array().map(Vec::len), Some(14));
        let fife = boards
            .as_array()
            .and_then(|b| b.iter().find(|b| b["code"] == "fife"))
            .expect("fife");
        assert_eq!(fife["pathway_enabled"], false);
        assert_eq!(fife["changes"].as_array().map(Vec::len), Some(3));
        assert_eq!(fife["changes"][0]["changed_by"], "test-board_admin");

        // Each switch and each referral is an event; routed ones have their own subject.
        let events = app.wait_for_events(7).await;
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("board.pathway_changed"))
                .count(),
            3
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("referral.routed_standard"))
                .count(),
            2
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.ends_with("referral.received"))
                .count(),
            2
        );
    }
}

#[tokio::test]
async fn only_a_board_admin_of_that_board_switches_it() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let url = format!("{}/v1/boards/highland/pathway", app.base);
    let body = json!({"enabled": true});
    for (token, status) in [
        (app.token(Role::BoardAdmin, &["fife"]), 403),
        (app.token(Role::Clinician, &["highland"]), 403),
        (app.token(Role::Referrer, &["highland"]), 403),
    ] {
        let response = app
            .http
            .put(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), status);
    }
    let response = app
        .http
        .put(format!("{}/v1/boards/atlantis/pathway", app.base))
        .bearer_auth(app.token(Role::BoardAdmin, &["*"]))
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 404);
    let response = app
        .http
        .put(&url)
        .bearer_auth(app.token(Role::BoardAdmin, &["highland"]))
        .json(&json!({"enabled": true, "effective_date": "next tuesday"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["fields"][0]["field"], "effective_date");
}
