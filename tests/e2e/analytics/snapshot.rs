//! Snapshots of the facts, and rebuilds that start from them once the
//! stream has let its older events go (`docs/decisions/0029`): the metrics
//! of a rebuild from a snapshot are the live service's, even with every
//! event before the snapshot gone from the stream; a rebuild that would lose
//! facts is refused unless asked to start from what the stream holds; two
//! instances taking the day's snapshot at once take one; a snapshot taken
//! while the consumer works holds each event once. The stream's `max_age`
//! is set by hand to a second to age events out, as the setting's days
//! would.

use std::time::Duration;

use chrono::Utc;
use pathway_analytics::application::snapshot;
use pathway_analytics::startup::{rebuild, take_snapshot};
use pathway_analytics::store::{fact_snapshot, snapshots};
use pathway_common::auth::Role;
use pathway_common::platform::Platform;
use pathway_tests::analytics::TestApp;
use pathway_tests::{backends, eventually};
use sea_orm::EntityTrait;
use serde_json::Value;

use super::history::{Case, board_events, events_of, history};
use super::{BOARD, json};

const QUERIES: [&str; 3] = ["", "&split=adoption", "&split=simd"];

fn query(split: &str) -> String {
    format!("boards=highland&from=2026-01-01&to=2026-06-30&by=month{split}")
}

/// The metrics the evaluators see, for each of [`QUERIES`].
async fn metrics(app: &TestApp) -> Vec<Value> {
    let token = app.token(Role::Evaluator, &[BOARD]);
    let mut out = Vec::new();
    for split in QUERIES {
        out.push(json(app.metrics(&token, &query(split)).await).await);
    }
    out
}

/// Publish the events of `cases` (with the boards' own first when
/// `with_boards`), each once and a third of them again under another message
/// id; answers how many distinct events.
async fn publish(app: &TestApp, cases: &[Case], with_boards: bool) -> u64 {
    let mut events = if with_boards {
        board_events()
    } else {
        Vec::new()
    };
    for case in cases {
        events.extend(events_of(case));
    }
    for event in &events {
        app.send(event).await;
    }
    for event in events.iter().step_by(3) {
        app.publish(event, &format!("again-{}", event.event_id))
            .await;
    }
    events.len() as u64
}

/// The stream's first and last sequence, and how many messages it holds.
async fn held(app: &TestApp) -> (u64, u64, u64) {
    let mut stream = app
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .expect("the stream");
    let state = stream.info().await.expect("its info").state.clone();
    (state.first_sequence, state.last_sequence, state.messages)
}

/// Let every event on the stream go, as a `max_age` would once they are
/// older than it: a second's age until the stream is empty, then every event
/// kept again (the de-duplication window cannot be longer than the age).
async fn age_out(app: &TestApp) {
    let mut stream = app
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .expect("the stream");
    let kept = stream.info().await.expect("its info").config.clone();
    let mut short = kept.clone();
    short.max_age = Duration::from_secs(1);
    short.duplicate_window = Duration::from_secs(1);
    app.jetstream
        .update_stream(&short)
        .await
        .expect("a short max_age");
    eventually(Duration::from_secs(30), || async {
        (held(app).await.2 == 0).then_some(())
    })
    .await
    .expect("the events age out within 30 s");
    let mut forever = kept;
    forever.max_age = Duration::ZERO;
    app.jetstream
        .update_stream(&forever)
        .await
        .expect("every event kept again");
}

/// Start a rebuild in the running service and wait for its end.
async fn rebuild_in_service(app: &TestApp, from_start: bool) -> Value {
    let admin = app.token(Role::BoardAdmin, &["*"]);
    let url = format!("{}/v1/rebuild?from_start={from_start}", app.base);
    let started = app
        .http
        .post(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .expect("an answer");
    assert_eq!(started.status(), 202);
    let status_url = format!("{}/v1/rebuild", app.base);
    eventually(Duration::from_secs(60), || async {
        let status: Value = app
            .http
            .get(&status_url)
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
    .expect("the rebuild ends within a minute")
}

#[tokio::test]
async fn a_rebuild_from_a_snapshot_gives_the_metrics_of_the_live_service() {
    let cases = history();
    let (early, late) = cases.split_at(cases.len() / 2);
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let first = publish(&app, early, true).await;
        app.wait_until_caught_up(first).await;
        let taken = take_snapshot(&app.settings, "test-operator")
            .await
            .expect("a snapshot");
        let (_, last, _) = held(&app).await;
        assert_eq!(taken.stream_sequence, last as i64, "{}", backend.name());
        assert!(taken.facts > 0);

        let second = publish(&app, late, false).await;
        app.wait_until_caught_up(first + second).await;
        let before = metrics(&app).await;
        let (_, end, _) = held(&app).await;

        let done = rebuild_in_service(&app, false).await;
        assert_eq!(done["state"], "done", "{done}");
        // Only the messages after the snapshot were read again.
        assert_eq!(done["handled"], end - last, "{}", backend.name());
        assert_eq!(metrics(&app).await, before, "{}", backend.name());
    }
}

#[tokio::test]
async fn a_rebuild_after_the_stream_let_old_events_go_keeps_every_fact() {
    let cases = history();
    let (early, late) = cases.split_at(cases.len() / 2);
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let first = publish(&app, early, true).await;
        app.wait_until_caught_up(first).await;
        let taken = take_snapshot(&app.settings, "test-operator")
            .await
            .expect("a snapshot");
        age_out(&app).await;
        let (first_held, _, _) = held(&app).await;
        assert!(first_held > taken.stream_sequence as u64);

        let second = publish(&app, late, false).await;
        app.wait_until_caught_up(first + second).await;
        let before = metrics(&app).await;
        let (_, end, messages) = held(&app).await;
        app.stop().await;

        let mut reports = Vec::new();
        let done = rebuild(&app.settings, false, |p| reports.push(p))
            .await
            .expect("the rebuild runs from the snapshot");
        assert_eq!(done.handled, messages, "{}", backend.name());
        assert_eq!(done.handled, end - taken.stream_sequence as u64);
        assert!(!reports.is_empty(), "progress is reported");

        let mut app = app.restart().await;
        assert_eq!(metrics(&app).await, before, "{}", backend.name());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_rebuild_that_would_lose_facts_is_refused_unless_asked_to_start_from_the_stream() {
    let cases = history();
    for backend in backends().await {
        let app = TestApp::spawn(&backend).await;
        let events = publish(&app, &cases, true).await;
        app.wait_until_caught_up(events).await;
        let before = metrics(&app).await;
        assert!(
            snapshots::latest(&app.db)
                .await
                .expect("snapshots")
                .is_none()
        );
        age_out(&app).await;
        let (first_held, _, _) = held(&app).await;

        // In the running service: a 409 naming what is missing, nothing changed.
        let admin = app.token(Role::BoardAdmin, &["*"]);
        let refused = app
            .http
            .post(format!("{}/v1/rebuild", app.base))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("an answer");
        assert_eq!(refused.status(), 409);
        let body: Value = refused.json().await.expect("JSON");
        let said = body.to_string();
        assert!(said.contains("rebuild_would_lose_facts"), "{said}");
        assert!(
            said.contains(&format!("messages 1 to {}", first_held - 1)),
            "{said}"
        );
        assert!(said.contains("no snapshot"), "{said}");
        assert!(said.contains("--from-start"), "{said}");
        assert_eq!(metrics(&app).await, before, "{}", backend.name());

        // Offline too, with the same reason.
        let offline = rebuild(&app.settings, false, |_| {})
            .await
            .expect_err("refused");
        assert!(
            format!("{offline:#}").contains("no snapshot"),
            "{offline:#}"
        );
        assert_eq!(metrics(&app).await, before, "{}", backend.name());

        // Asked to start from what the stream holds, it does, and the facts
        // of the events gone are lost, as the operator accepted.
        let done = rebuild_in_service(&app, true).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["handled"], 0);
        assert_ne!(metrics(&app).await, before, "{}", backend.name());
    }
}

#[tokio::test]
async fn two_instances_take_one_daily_snapshot_and_one_taken_mid_burst_holds_each_event_once() {
    let cases = history();
    let (early, late) = cases.split_at(cases.len() / 3);
    for backend in backends().await {
        let mut app = TestApp::spawn(&backend).await;
        let first = publish(&app, early, true).await;
        app.wait_until_caught_up(first).await;

        // A second instance, on the same database and NATS account.
        let other = Platform::start::<pathway_analytics::store::Migrator>(
            "analytics",
            &app.settings.database,
            &app.settings.nats,
            &app.settings.auth,
        )
        .await
        .expect("a second instance");
        let now = Utc::now();
        let (one, two) = tokio::join!(
            snapshot::take_daily(&app.app.platform, now),
            snapshot::take_daily(&other, now)
        );
        let taken = one.expect("the first instance") + two.expect("the second instance");
        assert_eq!(taken, 1, "{}", backend.name());
        assert_eq!(
            snapshot::take_daily(&other, now).await.expect("again"),
            0,
            "the day's snapshot is taken"
        );

        // An operator's snapshot while the consumer handles a burst.
        let burst = async {
            let second = publish(&app, late, false).await;
            app.wait_until_caught_up(first + second).await;
        };
        let (_, mid) = tokio::join!(burst, async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            snapshot::take(&other, None, "test-operator", Utc::now())
                .await
                .expect("a snapshot mid-burst")
                .expect("an operator's is always taken")
        });
        let before = metrics(&app).await;
        let (_, end, _) = held(&app).await;
        app.stop().await;
        let done = rebuild(&app.settings, false, |_| {})
            .await
            .expect("the rebuild runs");
        assert_eq!(done.handled, end - mid.stream_sequence as u64);
        let mut app = app.restart().await;
        let from_snapshot = metrics(&app).await;
        // The same as reading the whole stream in order (which it still
        // holds): no event of the burst counted twice or missed. (Not
        // compared with the live service: on SQLite the second instance's
        // writes lock the file, the live consumer retries some messages
        // after later ones, and a referral's events applied out of order
        // may give another fact than the stream's order does.)
        let full = rebuild_in_service(&app, true).await;
        assert_eq!(full["state"], "done", "{full}");
        assert_eq!(full["handled"], end, "{}", backend.name());
        assert_eq!(metrics(&app).await, from_snapshot, "{}", backend.name());
        if matches!(backend, pathway_tests::Backend::Postgres(_)) {
            assert_eq!(from_snapshot, before, "{}", backend.name());
        }

        // Only the last three are kept.
        for _ in 0..3 {
            take_snapshot(&app.settings, "test-operator")
                .await
                .expect("a snapshot");
        }
        let kept = fact_snapshot::Entity::find()
            .all(&app.db)
            .await
            .expect("the snapshots");
        assert_eq!(kept.len(), 3, "{}", backend.name());
        assert!(kept.iter().all(|s| s.taken_by == "test-operator"));
        other.db.close().await.ok();
        app.stop().await;
    }
}

#[tokio::test]
async fn the_stream_gets_its_max_age_from_intakes_settings_at_each_start() {
    let backend = pathway_tests::Backend::Sqlite;
    let app = TestApp::spawn(&backend).await;
    let max_age = |app: &TestApp| {
        let jetstream = app.jetstream.clone();
        async move {
            let mut stream = jetstream
                .get_stream(pathway_proto::stream::NAME)
                .await
                .expect("the stream");
            stream.info().await.expect("its info").config.max_age
        }
    };
    let day = Duration::from_secs(24 * 60 * 60);
    // Made by a service other than intake: with its settings' age.
    assert_eq!(max_age(&app).await, 30 * day);
    let start = |service: &'static str, days: u32| {
        let mut nats = app.settings.nats.clone();
        nats.stream_max_age_days = days;
        let database = app.settings.database.clone();
        let auth = app.settings.auth.clone();
        async move {
            Platform::start::<pathway_analytics::store::Migrator>(service, &database, &nats, &auth)
                .await
        }
    };
    // Only intake changes an existing stream's age.
    start("analytics", 9).await.expect("analytics starts");
    assert_eq!(max_age(&app).await, 30 * day);
    start("intake", 9).await.expect("intake starts");
    assert_eq!(max_age(&app).await, 9 * day);
    start("intake", 0).await.expect("intake starts");
    assert_eq!(max_age(&app).await, Duration::ZERO, "0 keeps every event");
    // A setting out of bounds stops the start, naming it.
    let refused = start("intake", 4000).await.err().expect("refused");
    assert!(
        format!("{refused:#}").contains("PATHWAY_NATS__STREAM_MAX_AGE_DAYS"),
        "{refused:#}"
    );
    assert_eq!(max_age(&app).await, Duration::ZERO);
}
