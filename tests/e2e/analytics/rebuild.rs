//! Rebuilds from the stream, offline and in the running service: the
//! metrics come out identical, and the live consumer carries on after.

use pathway_common::auth::Role;
use pathway_tests::analytics::TestApp;
use pathway_tests::backends;
use serde_json::Value;
use uuid::Uuid;

use super::history::{events_of, history, publish_history};
use super::{BOARD, json};

#[tokio::test]
async fn a_rebuild_from_the_stream_gives_identical_metrics() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let mut before = Vec::new();
        for split in ["", "&split=adoption", "&split=simd"] {
            let query = format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}");
            before.push(json(app.metrics(&token, &query).await).await);
        }
        app.stop().await;

        let mut reports = Vec::new();
        let done = pathway_analytics::startup::rebuild(&app.settings, false, |p| reports.push(p))
            .await
            .expect("the rebuild runs");
        // Every message on the stream, the redelivered copies included.
        let copies = events.div_ceil(3);
        assert_eq!(done.handled, events + copies, "{}", backend.name());
        assert_eq!(done.remaining, 0);
        assert!(reports.len() > 1, "progress is reported as it goes");
        assert_eq!(reports[0].handled, 0, "the first report is the start");
        assert!(reports[0].remaining > 0, "with what there is to do");
        assert_eq!(reports.last(), Some(&done), "the last is the end");

        let mut app = app.restart().await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        for (i, split) in ["", "&split=adoption", "&split=simd"].iter().enumerate() {
            let query = format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}");
            let after = json(app.metrics(&token, &query).await).await;
            assert_eq!(after, before[i], "{query} on {}", backend.name());
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_rebuild_in_the_running_service_pauses_the_consumer_and_gives_identical_metrics() {
    let cases = history();
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let events = publish_history(&app, &cases).await;
        app.wait_until_caught_up(events).await;
        let token = app.token(Role::Evaluator, &[BOARD]);
        let queries = ["", "&split=adoption", "&split=simd"]
            .map(|split| format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}"));
        let mut before = Vec::new();
        for query in &queries {
            before.push(json(app.metrics(&token, query).await).await);
        }
        let url = format!("{}/v1/rebuild", app.base);

        // Only a board admin for every board may start or follow one.
        let no_token = app.http.post(&url).send().await.expect("an answer");
        assert_eq!(no_token.status(), 401);
        for (role, boards) in [(Role::Evaluator, ["*"]), (Role::BoardAdmin, [BOARD])] {
            let other = app.token(role, &boards);
            for request in [app.http.post(&url), app.http.get(&url)] {
                let answer = request.bearer_auth(&other).send().await.expect("an answer");
                assert_eq!(answer.status(), 403, "{role} for {boards:?}");
            }
        }
        let admin = app.token(Role::BoardAdmin, &["*"]);
        let idle = json(
            app.http
                .get(&url)
                .bearer_auth(&admin)
                .send()
                .await
                .expect("an answer"),
        )
        .await;
        assert_eq!(idle["state"], "idle");

        let started = app
            .http
            .post(&url)
            .bearer_auth(&admin)
            .send()
            .await
            .expect("an answer");
        assert_eq!(started.status(), 202);
        let started: Value = started.json().await.expect("JSON");
        assert_eq!(started["state"], "running");
        assert_eq!(started["requested_by"], "test-board_admin");
        let done = pathway_tests::eventually(std::time::Duration::from_secs(60), || async {
            let status: Value = app
                .http
                .get(&url)
                .bearer_auth(&admin)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (status["state"] != "running").then_some(status)
        })
        .await
        .expect("the rebuild ends within a minute");
        assert_eq!(done["state"], "done", "{done}");
        // Every message on the stream, the redelivered copies included.
        assert_eq!(
            done["handled"],
            events + events.div_ceil(3),
            "{}",
            backend.name()
        );
        assert_eq!(done["remaining"], 0);
        for (query, before) in queries.iter().zip(&before) {
            let after = json(app.metrics(&token, query).await).await;
            assert_eq!(&after, before, "{query} on {}", backend.name());
        }

        // The live consumer is back: a referral published after the rebuild is counted.
        let mut late = cases[0].clone();
        late.id = Uuid::now_v7().to_string();
        let late_events = events_of(&late);
        for event in &late_events {
            app.send(event).await;
        }
        app.wait_until_caught_up(events + late_events.len() as u64)
            .await;
        app.stop().await;
    }
}
