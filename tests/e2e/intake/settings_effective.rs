//! Effective-dated board settings: a change is in force from a Scottish day,
//! today or later; a bad or past `effective_from` is refused, naming it,
//! and nothing is kept.

use chrono::Days;
use pathway_common::auth::Role;
use pathway_proto::days;
use pathway_proto::v1::Payload;
use pathway_tests::backends;
use pathway_tests::intake::TestApp;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

async fn put_from(app: &TestApp, token: &str, from: &str, body: &str) -> reqwest::Response {
    app.http
        .put(format!(
            "{}/v1/boards/highland/settings?effective_from={from}",
            app.base
        ))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("intake answers")
}

#[tokio::test]
async fn a_change_from_a_later_day_is_kept_but_not_in_force_and_a_past_day_is_refused() {
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let admin = app.token(Role::BoardAdmin, &["highland"]);
        let mut document = TestApp::example_board_settings();
        document["vetting_target_working_days"] = 4.into();
        let body = document.to_string();
        let today = days::today();
        let yesterday = today - Days::new(1);
        let next_week = today + Days::new(7);

        for from in ["1 June", "2026-02-30", &yesterday.to_string()] {
            let response = put_from(&app, &admin, from, &body).await;
            assert_eq!(response.status(), 422, "{}: {from}", backend.name());
            let error: Value = response.json().await.expect("JSON");
            let fields = error["fields"].as_array().expect("fields");
            assert!(
                fields.iter().any(|f| f["field"] == "effective_from"),
                "{from}: {error}"
            );
        }
        let kept = pathway_intake::store::board_settings_change::Entity::find()
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(kept, 0, "nothing kept from a refused change");

        // From next week: kept and announced with its day, not yet in force.
        let response = put_from(&app, &admin, &next_week.to_string(), &body).await;
        assert_eq!(response.status(), 200, "{}", backend.name());
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["defaults"], true);
        assert_eq!(view["settings"]["vetting_target_working_days"], 10);
        assert_eq!(view["changes"][0]["effective_from"], next_week.to_string());
        app.wait_for_events(1).await;
        let events: Vec<_> = app
            .stream_events()
            .await
            .into_iter()
            .filter_map(|e| match e.event.payload {
                Some(Payload::BoardSettingsChanged(changed)) => Some(changed),
                _ => None,
            })
            .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].effective_date, next_week.to_string());

        // Without effective_from: in force from today.
        document["vetting_target_working_days"] = 6.into();
        let response = app
            .put_board_settings(&admin, "highland", &document.to_string())
            .await;
        assert_eq!(response.status(), 200);
        let view: Value = response.json().await.expect("JSON");
        assert_eq!(view["defaults"], false);
        assert_eq!(view["settings"]["vetting_target_working_days"], 6);
        assert_eq!(view["effective_from"], today.to_string());
        assert_eq!(view["changes"].as_array().map(Vec::len), Some(2));
    }
}
