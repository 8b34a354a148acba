//! Replaying dead letters over HTTP (written once in
//! `pathway_common::http::dead_letters` and `pathway_common::replay`): a
//! board's settings naming a Notify account the deployment lacks are
//! dead-lettered by notification; the account is configured and notification
//! restarted; the dead letter is replayed and the settings are applied once,
//! while decision, which applied the same event long ago, is not changed by
//! the copy. Then who may not, and what cannot be replayed twice.

use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use pathway_common::audit;
use pathway_common::auth::Role;
use pathway_common::inbox::{dead_letter, entity as inbox_row};
use pathway_common::replay;
use pathway_notification::startup::Workers;
use pathway_tests::decision::TestApp as DecisionApp;
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{NotifyGateway, TestApp, WebhookReceiver};
use pathway_tests::{backends, eventually};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

/// `POST <path>` on `app`, with `token` when given: the status and the body.
async fn post(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.http.post(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// How many inbox rows `consumer` holds for `event_id`.
async fn inbox_rows(db: &DatabaseConnection, consumer: &str, event_id: &str) -> u64 {
    inbox_row::Entity::find()
        .filter(inbox_row::Column::Consumer.eq(consumer))
        .filter(inbox_row::Column::EventId.eq(event_id))
        .count(db)
        .await
        .expect("read the inbox")
}

/// Whether the durable consumer `durable` has handled everything on the stream.
async fn caught_up(jetstream: &async_nats::jetstream::Context, durable: &str) -> bool {
    let Ok(stream) = jetstream.get_stream(pathway_proto::stream::NAME).await else {
        return false;
    };
    let Ok(mut consumer) = stream.get_consumer::<pull::Config>(durable).await else {
        return false;
    };
    consumer
        .info()
        .await
        .is_ok_and(|i| i.num_pending == 0 && i.num_ack_pending == 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_replayed_after_the_fix_are_applied_once_and_audited() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let decision = DecisionApp::spawn_beside(&backend, &intake).await;
        let shared = NotifyGateway::start().await;
        let grampian = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let app = TestApp::spawn(&backend, &intake, &shared, &receiver, Workers::default()).await;

        // Settings naming an account this deployment does not have yet.
        let board_admin = intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "gp_webhook_url": receiver.url("gp"),
            "notify_account": "grampian",
            // The test's receiver listens on 127.0.0.1.
            "allow_private_addresses": true,
            "allowed_hosts": ["127.0.0.1"],
        });
        let response = intake
            .put_board_settings(&board_admin, "highland", &document.to_string())
            .await;
        assert_eq!(response.status(), 200);
        let dead = eventually(WAIT, || async {
            app.dead_letters()
                .await
                .into_iter()
                .find(|d| d.reason.contains("grampian"))
        })
        .await
        .expect("the settings naming an unknown account are dead-lettered");
        let event_id = dead.message_id.clone();
        let applied_by_decision = eventually(WAIT, || async {
            pathway_common::board_settings::entity::Entity::find_by_id("highland".to_owned())
                .one(&decision.db)
                .await
                .expect("read decision's board settings")
                .filter(|row| row.event_id == event_id)
        })
        .await
        .expect("decision applies the same settings at once");
        assert!(
            app.board_notification("highland").await.is_none(),
            "{}: notification kept nothing",
            backend.name()
        );

        // The fix: the account is configured.
        let mut settings = app.settings.clone();
        settings.notify_accounts.insert(
            "grampian".into(),
            grampian.account("grampian-callback-token"),
        );
        let app = app.restart_with(settings, Workers::default()).await;
        assert!(app.board_notification("highland").await.is_none());

        let operator = app.token(Role::BoardAdmin, &["*"]);
        let path = format!("/v1/dead-letters/{}/replay", dead.id);
        let (status, replayed) = post(&app, &path, Some(&operator)).await;
        assert_eq!(status, 202, "{}: {replayed}", backend.name());
        assert_eq!(replayed["id"], dead.id.as_str());
        assert_eq!(replayed["message_id"], event_id.as_str());
        assert!(replayed["replayed_at"].is_string(), "{replayed}");

        let kept = eventually(WAIT, || async {
            app.board_notification("highland")
                .await
                .filter(|row| row.event_id == event_id)
        })
        .await
        .expect("the replayed settings are applied");
        let notification: Value =
            serde_json::from_str(kept.notification_json.as_deref().expect("a section"))
                .expect("JSON");
        assert_eq!(notification["notify_account"], "grampian");
        assert_eq!(inbox_rows(&app.db, "notification", &event_id).await, 1);
        let rows = app.dead_letters().await;
        assert_eq!(rows.len(), 1, "not dead-lettered again: {rows:?}");
        assert!(rows[0].replayed_at.is_some());

        // The copy went out once, under a message id of its own.
        let copies: Vec<_> = app
            .stream_events()
            .await
            .into_iter()
            .filter(|e| e.event.event_id == event_id)
            .collect();
        assert_eq!(copies.len(), 2, "the original and one replay");
        let replay_header = copies[1]
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id").map(|v| v.to_string()));
        assert_eq!(replay_header, Some(replay::message_id(&dead.id)));

        // Decision applied it long ago: the copy reaches it and changes nothing.
        assert!(
            eventually(WAIT, || async {
                caught_up(&decision.jetstream, "decision")
                    .await
                    .then_some(())
            })
            .await
            .is_some(),
            "decision reads the copy"
        );
        assert_eq!(inbox_rows(&decision.db, "decision", &event_id).await, 1);
        let after =
            pathway_common::board_settings::entity::Entity::find_by_id("highland".to_owned())
                .one(&decision.db)
                .await
                .expect("read decision's board settings");
        assert_eq!(after, Some(applied_by_decision), "unchanged in decision");
        assert!(decision.dead_letters().await.is_empty());

        // Twice is refused, and nothing more goes out.
        let (status, again) = post(&app, &path, Some(&operator)).await;
        assert_eq!(status, 409, "{again}");
        assert_eq!(again["error"], "already_replayed", "{again}");
        let (status, all) = post(&app, "/v1/dead-letters/replay", Some(&operator)).await;
        assert_eq!(status, 202, "{all}");
        assert_eq!(all["replayed"], json!([]), "{all}");
        let copies = app
            .stream_events()
            .await
            .into_iter()
            .filter(|e| e.event.event_id == event_id)
            .count();
        assert_eq!(copies, 2);

        // Audited: who, from where, and which consumer's message.
        let audited = audit::entity::Entity::find()
            .filter(audit::entity::Column::Action.eq(replay::ACTION))
            .all(&app.db)
            .await
            .expect("read the audit trail");
        assert_eq!(audited.len(), 1, "{audited:?}");
        assert_eq!(audited[0].actor, "test-board_admin");
        assert_eq!(audited[0].actor_role, "board_admin");
        assert_eq!(audited[0].source, "127.0.0.1");
        let purpose = audited[0].purpose.as_deref().unwrap_or_default();
        assert!(
            purpose.contains("notification") && purpose.contains(&event_id),
            "{purpose}"
        );

        // Who may not, and what is not there.
        let (status, _) = post(&app, &path, None).await;
        assert_eq!(status, 401);
        let one_board = app.token(Role::BoardAdmin, &["highland"]);
        let (status, _) = post(&app, &path, Some(&one_board)).await;
        assert_eq!(status, 403);
        let clinician = app.token(Role::Clinician, &["*"]);
        let (status, _) = post(&app, "/v1/dead-letters/replay", Some(&clinician)).await;
        assert_eq!(status, 403);
        let (status, _) = post(&app, "/v1/dead-letters/replay", None).await;
        assert_eq!(status, 401);
        let unknown = format!("/v1/dead-letters/{}/replay", uuid::Uuid::now_v7());
        let (status, body) = post(&app, &unknown, Some(&operator)).await;
        assert_eq!(status, 404, "{body}");

        let mut app = app;
        app.stop().await;
        let mut decision = decision;
        decision.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

/// Poison that is refused again is dead-lettered again, as a new row; bytes
/// that are not an event can never be replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_refused_again_are_dead_lettered_again_and_non_events_are_not_replayed() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let shared = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let app = TestApp::spawn(&backend, &intake, &shared, &receiver, Workers::default()).await;
        let board_admin = intake.token(Role::BoardAdmin, &["highland"]);
        let mut document = IntakeApp::example_board_settings();
        document["notification"] = json!({
            "messages": "notify",
            "webhooks": "http",
            "gp_webhook_url": receiver.url("gp"),
            "notify_account": "grampian",
            // The test's receiver listens on 127.0.0.1.
            "allow_private_addresses": true,
            "allowed_hosts": ["127.0.0.1"],
        });
        let response = intake
            .put_board_settings(&board_admin, "highland", &document.to_string())
            .await;
        assert_eq!(response.status(), 200);
        let first = app.wait_for_dead_letters(1).await.remove(0);
        app.jetstream
            .publish(first.subject.clone(), vec![0xff, 0xff, 0xff].into())
            .await
            .expect("publish")
            .await
            .expect("the stream acknowledges");
        let rows = app.wait_for_dead_letters(2).await;
        let garbage = rows
            .iter()
            .find(|r| r.id != first.id)
            .expect("the bytes dead-lettered")
            .clone();

        // Not fixed: replayed, refused again, a new row.
        let operator = app.token(Role::BoardAdmin, &["*"]);
        let (status, report) = post(
            &app,
            "/v1/dead-letters/replay?consumer=notification",
            Some(&operator),
        )
        .await;
        assert_eq!(status, 202, "{}: {report}", backend.name());
        assert_eq!(
            report["replayed"].as_array().map(Vec::len),
            Some(1),
            "{report}"
        );
        assert_eq!(report["replayed"][0]["id"], first.id.as_str());
        assert_eq!(report["skipped"][0]["id"], garbage.id.as_str());
        assert_eq!(report["skipped"][0]["code"], "not_an_event");
        let rows = app.wait_for_dead_letters(3).await;
        let again: Vec<&dead_letter::Model> = rows
            .iter()
            .filter(|r| r.message_id == first.message_id)
            .collect();
        assert_eq!(again.len(), 2, "dead-lettered again: {rows:?}");
        assert!(again.iter().any(|r| r.replayed_at.is_none()));

        let path = format!("/v1/dead-letters/{}/replay", garbage.id);
        let (status, body) = post(&app, &path, Some(&operator)).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"], "not_an_event");

        let mut app = app;
        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}

/// A replay goes to the consumer that refused the event and to no other
/// service's consumer but analytics' (which reads every subject and already
/// has the event): so NATS lets each service publish its own replays and
/// never the events it reads.
#[test]
fn each_services_replays_reach_only_its_own_consumer() {
    use pathway_common::inbox::{consumer_filters, covers};
    use pathway_proto::stream::replay_subject;

    let consumers = [
        ("intake-status", pathway_intake::consumer::filters()),
        ("vetting-worklist", pathway_vetting::consumer::filters()),
        (
            pathway_decision::consumer::DURABLE,
            pathway_decision::consumer::filters(),
        ),
        (
            pathway_notification::consumer::DURABLE,
            pathway_notification::consumer::filters(),
        ),
        (
            pathway_analytics::consumer::DURABLE,
            pathway_analytics::consumer::filters(),
        ),
    ];
    for (refusing, filters) in &consumers {
        for original in filters.iter().map(|f| f.replace(['*', '>'], "x")) {
            let replay = replay_subject(refusing, &original);
            for (consumer, theirs) in &consumers {
                let reads = consumer_filters(consumer, theirs.clone())
                    .iter()
                    .any(|f| covers(f, &replay));
                let expected = consumer == refusing || *consumer == "analytics";
                assert_eq!(reads, expected, "{consumer} reading {replay}");
            }
        }
    }
}
