//! Supervised background workers: the decision service's durable consumer
//! deleted from under it (as an operator's slip or a cluster losing it
//! would): the worker stops, `/readyz` answers 503 naming it, it is
//! restarted with back-off, binds to the consumer afresh (recreating it),
//! `/readyz` is 200 again, and events published since are handled, each
//! once; what was handled before is not handled again.

use std::time::Duration;

use pathway_proto::v1 as proto;
use pathway_tests::decision::{TestApp, accept, new_referral, vetting_completed};
use pathway_tests::{backends, eventually};
use serde_json::Value;

/// `/readyz`: its status and body.
async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("decision answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// The value of `pathway_<name>` for the worker `worker`.
async fn worker_metric(app: &TestApp, name: &str, worker: &str) -> f64 {
    app.metric(name, &[format!("worker=\"{worker}\"").as_str()])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_consumer_makes_readyz_fail_until_it_is_restarted() {
    let worker = "consumer decision";
    for backend in backends().await {
        let name = backend.name();
        let app = TestApp::spawn(&backend).await;
        let before = new_referral();
        app.send(&vetting_completed(
            "highland",
            &before,
            accept(proto::Priority::Routine),
            false,
        ))
        .await;
        app.wait_for_decisions(&before, 1).await;
        assert_eq!(readyz(&app).await.0, 200, "{name}");
        assert_eq!(worker_metric(&app, "worker_up", worker).await, 1.0);

        app.jetstream
            .get_stream(pathway_proto::stream::NAME)
            .await
            .expect("the pathway stream")
            .delete_consumer(pathway_decision::consumer::DURABLE)
            .await
            .expect("the durable consumer is deleted");

        // Down: /readyz names the worker and why, the metric says so.
        let (_, body) = eventually(Duration::from_secs(5), || async {
            let (status, body) = readyz(&app).await;
            (status == 503).then_some((status, body))
        })
        .await
        .unwrap_or_else(|| panic!("{name}: /readyz never answered 503"));
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(worker), "{name}: {body}");
        assert!(reason.contains("deleted"), "{name}: {body}");

        // Restarted: ready again, one restart counted, up again.
        eventually(Duration::from_secs(10), || async {
            (readyz(&app).await.0 == 200).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("{name}: /readyz never recovered"));
        assert_eq!(
            worker_metric(&app, "worker_restarts_total", worker).await,
            1.0,
            "{name}"
        );
        assert_eq!(worker_metric(&app, "worker_up", worker).await, 1.0);

        // The recreated consumer handles what comes next, and what was
        // handled before (delivered again from the start of the stream)
        // changes nothing.
        let after = new_referral();
        app.send(&vetting_completed(
            "highland",
            &after,
            accept(proto::Priority::Urgent),
            false,
        ))
        .await;
        app.wait_for_decisions(&after, 1).await;
        assert_eq!(app.decision_rows(&after).await.len(), 1, "{name}");
        assert_eq!(app.decision_rows(&before).await.len(), 1, "{name}");
        assert_eq!(app.decisions_recorded(&before).await.len(), 1, "{name}");
    }
}
