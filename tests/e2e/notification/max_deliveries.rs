//! A consumer that JetStream gives up on: the notification consumer edited
//! out of band to a delivery limit (as `nats consumer edit` or an older
//! release during a rolling upgrade would leave it) while intake is away.
//! JetStream stops redelivering the decision and raises a `MAX_DELIVERIES`
//! advisory; it becomes a dead-letter row, once, with its copy on the
//! dead-letter stream (whose count equals the rows). Replayed once intake is
//! back, the decision's messages are sent, once.

use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use pathway_common::auth::Role;
use pathway_notification::startup::Workers;
use pathway_proto::stream;
use pathway_tests::notification::{TestApp, decision_recorded};
use pathway_tests::referrals::valid_referral;
use pathway_tests::{backends, eventually};

use super::{Setup, accept, setup};

/// The deliveries the edited consumer allows.
const LIMIT: i64 = 3;

/// Messages on the dead-letter stream.
async fn dead_letter_stream_count(app: &TestApp) -> u64 {
    let mut dead = app
        .jetstream
        .get_stream(stream::DEAD_LETTER_STREAM)
        .await
        .expect("the dead-letter stream");
    dead.info().await.expect("its state").state.messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_jetstream_gives_up_on_becomes_a_dead_letter_and_is_replayed_once() {
    for backend in backends().await {
        let Setup {
            mut intake,
            gateway,
            receiver,
            mut app,
        } = setup(&backend, Workers::default()).await;
        let name = backend.name();
        let referral = intake.refer(&valid_referral("highland")).await;
        intake.stop().await;

        // Out of band, the consumer gets a delivery limit.
        let pathway = app
            .jetstream
            .get_stream(stream::NAME)
            .await
            .expect("the pathway stream");
        let mut consumer = pathway
            .get_consumer::<pull::Config>(pathway_notification::consumer::DURABLE)
            .await
            .expect("the notification consumer");
        let mut config = consumer.info().await.expect("its config").config.clone();
        config.max_deliver = LIMIT;
        pathway
            .update_consumer(config)
            .await
            .expect("the consumer is edited");

        let decision = decision_recorded("highland", &referral, accept());
        app.send(&decision).await;

        // JetStream gives up after the limit: a dead letter, once.
        let dead = app.wait_for_dead_letters(1).await;
        assert_eq!(dead.len(), 1, "{name}: {dead:?}");
        assert_eq!(dead[0].message_id, decision.event_id, "{name}");
        assert_eq!(dead[0].consumer, "notification", "{name}");
        assert_eq!(dead[0].deliveries, LIMIT, "{name}");
        assert!(
            dead[0].reason.contains("MAX_DELIVERIES"),
            "{name}: {}",
            dead[0].reason
        );
        assert!(
            dead[0].subject.ends_with(".decision.recorded"),
            "{name}: {}",
            dead[0].subject
        );
        let on_stream = eventually(Duration::from_secs(10), || async {
            (dead_letter_stream_count(&app).await == 1).then_some(())
        })
        .await;
        assert!(
            on_stream.is_some(),
            "{name}: {} on the dead-letter stream",
            dead_letter_stream_count(&app).await
        );
        assert_eq!(gateway.posts(), 0, "{name}");
        // It waited while it was retried; set aside, it waits no more.
        let settled = eventually(Duration::from_secs(5), || async {
            (app.metric("inbox_waiting", &["consumer=\"notification\""])
                .await
                == 0.0)
                .then_some(())
        })
        .await;
        assert!(
            settled.is_some(),
            "{name}: {} waiting",
            app.metric("inbox_waiting", &["consumer=\"notification\""])
                .await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.dead_letters().await.len(), 1, "{name}: set aside once");
        assert_eq!(dead_letter_stream_count(&app).await, 1, "{name}");

        // Intake back, the consumer as the service wants it again (its next
        // start binds it so), the dead letter replayed: sent once.
        let intake = intake
            .restart(pathway_intake::startup::Workers::default())
            .await;
        let operator = app.token(Role::BoardAdmin, &["*"]);
        let replayed = app
            .http
            .post(format!(
                "{}/v1/dead-letters/{}/replay",
                app.base, dead[0].id
            ))
            .bearer_auth(&operator)
            .send()
            .await
            .expect("notification answers");
        assert_eq!(replayed.status().as_u16(), 202, "{name}");
        let sent = eventually(Duration::from_secs(20), || async {
            let rows = app.deliveries(&referral).await;
            (rows.len() == 2
                && rows
                    .iter()
                    .all(|r| r.status == pathway_notification::store::delivery::Status::Sent))
            .then_some(rows)
        })
        .await;
        assert!(sent.is_some(), "{name}: the replayed decision was sent");
        assert_eq!(gateway.posts(), 1, "{name}: one SMS");
        assert_eq!(receiver.hooks().len(), 1, "{name}: one GP webhook");
        assert_eq!(app.dead_letters().await.len(), 1, "{name}");

        app.stop().await;
        let mut intake = intake;
        intake.stop().await;
    }
}
