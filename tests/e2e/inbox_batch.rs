//! The inbox handles the messages that arrive together in one transaction:
//! each in a savepoint of its own, so that one rejected or waiting out a
//! fault is rolled back alone while the rest commit, a message delivered
//! twice in one batch takes effect once, and nothing is acknowledged before
//! the commit; or, for a handler that writes only at the batch's end, with
//! no savepoint and the inbox rows written together. A running consumer
//! waits for the rest of a batch on its way (`ConsumerSpec::linger`). On
//! SQLite and PostgreSQL, against a real nats-server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use pathway_common::inbox::{ConsumerSpec, DemoEvents, HandleError, Handler, Inbox, Outcome};
use pathway_common::metrics::Metrics;
use pathway_common::outbox::{self, OutboxSignal};
use pathway_common::settings::{DatabaseSettings, NatsSettings};
use pathway_proto::v1::{Event, event::Payload};
use pathway_tests::{Backend, backends, nats_account_url, notification::info_requested};
use prost::Message as _;
use sea_orm::{DatabaseConnection, DatabaseTransaction, EntityTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Plumbing;

impl MigratorTrait for Plumbing {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(pathway_common::plumbing::PlumbingMigration)]
    }
}

/// Writes its effect (an outbox row named after the event) first, then does
/// what the question says: `reject` is poison, `retry` a fault that heals
/// at the second try; anything else is handled.
#[derive(Default)]
struct Recorder {
    failed_once: AtomicBool,
}

impl Handler for Recorder {
    type Prepared = ();

    async fn prepare(&self, _event: &Event) -> Result<(), HandleError> {
        Ok(())
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &Event,
        (): (),
    ) -> Result<(), HandleError> {
        let effect = format!("effect-{}", event.event_id);
        outbox::enqueue_raw(txn, &effect, "effects", Vec::new(), Default::default()).await?;
        let Some(Payload::VettingInfoRequested(asked)) = &event.payload else {
            return Err(HandleError::Rejected("not a question".into()));
        };
        let question = pathway_tests::notification::registered(&asked.question_text_id);
        match question.as_deref().unwrap_or_default() {
            "reject" => Err(HandleError::Rejected("the question says so".into())),
            "retry" if !self.failed_once.swap(true, Ordering::SeqCst) => {
                Err(HandleError::Retry(anyhow::anyhow!("a fault that heals")))
            }
            _ => Ok(()),
        }
    }
}

async fn effects(db: &DatabaseConnection) -> Vec<String> {
    let mut ids: Vec<String> = outbox::entity::Entity::find()
        .all(db)
        .await
        .expect("the outbox reads")
        .into_iter()
        .map(|row| row.event_id)
        .filter(|id| id.starts_with("effect-"))
        .map(|id| id.trim_start_matches("effect-").to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_batch_commits_together_and_rolls_back_one_message_alone() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (db, jetstream, inbox) = bound(
            &backend,
            dir.path(),
            "batch-test",
            Recorder::default(),
            |spec| spec,
        )
        .await;

        let referral = uuid::Uuid::new_v4().to_string();
        let events: Vec<Event> = ["first", "reject", "third", "retry", "fifth"]
            .into_iter()
            .map(|question| info_requested("highland", &referral, question))
            .collect();
        // The first event twice in one batch, as a redelivery would bring it.
        for event in events.iter().chain(std::iter::once(&events[0])) {
            let subject = event.subject().expect("an event with a payload");
            jetstream
                .publish(subject, event.encode_to_vec().into())
                .await
                .expect("published")
                .await
                .expect("stored");
        }
        let id = |i: usize| events[i].event_id.clone();

        let outcomes = inbox.try_process_batch(64).await.expect("a batch");
        assert_eq!(
            outcomes,
            [
                Outcome::Handled,
                Outcome::DeadLettered,
                Outcome::Handled,
                Outcome::Retrying,
                Outcome::Handled,
                Outcome::Duplicate,
            ],
            "{}",
            backend.name()
        );
        // The rejected and the waiting message wrote their effect before
        // failing: rolled back with their savepoints, the others kept.
        let mut handled = vec![id(0), id(2), id(4)];
        handled.sort();
        assert_eq!(effects(&db).await, handled, "{}", backend.name());

        // The waiting one comes back after its back-off and is handled; the
        // batch acknowledged everything else, so nothing else comes back.
        let later = pathway_tests::eventually(Duration::from_secs(10), || async {
            let outcomes = inbox.try_process_batch(64).await.expect("a batch");
            (!outcomes.is_empty()).then_some(outcomes)
        })
        .await
        .expect("the waiting message is redelivered");
        assert_eq!(later, [Outcome::Handled], "{}", backend.name());
        handled.push(id(3));
        handled.sort();
        assert_eq!(effects(&db).await, handled, "{}", backend.name());
        let again = inbox.try_process_batch(64).await.expect("a batch");
        assert!(again.is_empty(), "{}: {again:?}", backend.name());

        // Delivered again later, alone: found in the inbox, no effect.
        let subject = events[2].subject().expect("an event with a payload");
        jetstream
            .publish(subject, events[2].encode_to_vec().into())
            .await
            .expect("published")
            .await
            .expect("stored");
        let outcomes = inbox.try_process_batch(64).await.expect("a batch");
        assert_eq!(outcomes, [Outcome::Duplicate], "{}", backend.name());
        assert_eq!(effects(&db).await, handled, "{}", backend.name());
    }
}

/// Keeps its effects for the batch and writes them when the batch ends, as
/// analytics does: handling writes nothing, so no message needs a
/// savepoint. The questions mean what they mean to [`Recorder`]. It notes
/// the size of each batch it is given.
#[derive(Default)]
struct Keeper {
    failed_once: AtomicBool,
    kept: std::sync::Mutex<Vec<String>>,
    sizes: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl Handler for Keeper {
    type Prepared = ();

    async fn prepare(&self, _event: &Event) -> Result<(), HandleError> {
        Ok(())
    }

    fn writes_when_handling(&self, _event: &Event) -> bool {
        false
    }

    async fn begin_batch(
        &self,
        _txn: &DatabaseTransaction,
        events: &[&Event],
    ) -> anyhow::Result<()> {
        self.kept.lock().expect("not poisoned").clear();
        self.sizes.lock().expect("not poisoned").push(events.len());
        Ok(())
    }

    async fn handle(
        &self,
        _txn: &DatabaseTransaction,
        event: &Event,
        (): (),
    ) -> Result<(), HandleError> {
        let Some(Payload::VettingInfoRequested(asked)) = &event.payload else {
            return Err(HandleError::Rejected("not a question".into()));
        };
        let question = pathway_tests::notification::registered(&asked.question_text_id);
        match question.as_deref().unwrap_or_default() {
            "reject" => return Err(HandleError::Rejected("the question says so".into())),
            "retry" if !self.failed_once.swap(true, Ordering::SeqCst) => {
                return Err(HandleError::Retry(anyhow::anyhow!("a fault that heals")));
            }
            _ => {}
        }
        self.kept
            .lock()
            .expect("not poisoned")
            .push(format!("effect-{}", event.event_id));
        Ok(())
    }

    async fn end_batch(&self, txn: &DatabaseTransaction) -> anyhow::Result<()> {
        let kept = std::mem::take(&mut *self.kept.lock().expect("not poisoned"));
        for effect in kept {
            outbox::enqueue_raw(txn, &effect, "effects", Vec::new(), Default::default()).await?;
        }
        Ok(())
    }
}

async fn inbox_rows(db: &DatabaseConnection) -> Vec<String> {
    let mut ids: Vec<String> = pathway_common::inbox::entity::Entity::find()
        .all(db)
        .await
        .expect("the inbox reads")
        .into_iter()
        .map(|row| row.event_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_batch_without_savepoints_writes_its_inbox_rows_together_and_once() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (db, jetstream, inbox) = bound(
            &backend,
            dir.path(),
            "kept-test",
            Keeper::default(),
            |spec| spec,
        )
        .await;
        let referral = uuid::Uuid::new_v4().to_string();
        let events: Vec<Event> = ["first", "reject", "third", "retry", "fifth"]
            .into_iter()
            .map(|question| info_requested("highland", &referral, question))
            .collect();
        for event in events.iter().chain(std::iter::once(&events[0])) {
            publish(&jetstream, event).await;
        }
        let id = |i: usize| events[i].event_id.clone();

        let outcomes = inbox.try_process_batch(64).await.expect("a batch");
        assert_eq!(
            outcomes,
            [
                Outcome::Handled,
                Outcome::DeadLettered,
                Outcome::Handled,
                Outcome::Retrying,
                Outcome::Handled,
                Outcome::Duplicate,
            ],
            "{}",
            backend.name()
        );
        let mut handled = vec![id(0), id(2), id(4)];
        handled.sort();
        assert_eq!(effects(&db).await, handled, "{}", backend.name());
        // The dead letter's row is written as it is dead-lettered.
        let recorded = |handled: &[String]| {
            let mut ids = handled.to_vec();
            ids.push(id(1));
            ids.sort();
            ids
        };
        assert_eq!(
            inbox_rows(&db).await,
            recorded(&handled),
            "{}",
            backend.name()
        );

        let later = pathway_tests::eventually(Duration::from_secs(10), || async {
            let outcomes = inbox.try_process_batch(64).await.expect("a batch");
            (!outcomes.is_empty()).then_some(outcomes)
        })
        .await
        .expect("the waiting message is redelivered");
        assert_eq!(later, [Outcome::Handled], "{}", backend.name());
        handled.push(id(3));
        handled.sort();
        assert_eq!(effects(&db).await, handled, "{}", backend.name());
        assert_eq!(
            inbox_rows(&db).await,
            recorded(&handled),
            "{}",
            backend.name()
        );

        // Delivered again later with a new one: the old one is found in the
        // inbox and has no effect; the new one is handled.
        let new = info_requested("highland", &referral, "sixth");
        publish(&jetstream, &events[2]).await;
        publish(&jetstream, &new).await;
        let outcomes = inbox.try_process_batch(64).await.expect("a batch");
        assert_eq!(
            outcomes,
            [Outcome::Duplicate, Outcome::Handled],
            "{}",
            backend.name()
        );
        handled.push(new.event_id.clone());
        handled.sort();
        assert_eq!(effects(&db).await, handled, "{}", backend.name());
        assert_eq!(
            inbox_rows(&db).await,
            recorded(&handled),
            "{}",
            backend.name()
        );
    }
}

#[tokio::test]
async fn a_running_consumer_fills_its_batches_with_what_is_on_its_way() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let keeper = Keeper::default();
        let sizes = keeper.sizes.clone();
        let seen = || sizes.lock().expect("not poisoned").clone();
        // A long linger: the test shows batches filled across the broker's
        // socket reads however busy the machine is.
        let (_db, jetstream, inbox) = bound(&backend, dir.path(), "linger-test", keeper, |spec| {
            ConsumerSpec {
                max_batch: 256,
                max_ack_pending: 1_024,
                linger: Duration::from_millis(500),
                ..spec
            }
        })
        .await;
        let referral = uuid::Uuid::new_v4().to_string();
        // Some 600 events of a few hundred bytes: several 64 KiB reads of
        // the socket, of which a consumer without linger batches one each.
        for n in 0..600 {
            let event = info_requested("highland", &referral, &format!("question {n}"));
            publish(&jetstream, &event).await;
        }
        let stop = tokio_util::sync::CancellationToken::new();
        let watch = async {
            let done = pathway_tests::eventually(Duration::from_secs(20), || async {
                (seen().iter().sum::<usize>() >= 600).then_some(())
            })
            .await;
            stop.cancel();
            done
        };
        let (ran, done) = tokio::join!(inbox.run(stop.clone()), watch);
        ran.expect("the consumer runs until stopped");
        assert!(done.is_some(), "{}: {:?}", backend.name(), seen());
        assert_eq!(seen(), [256, 256, 88], "{}", backend.name());
    }
}

/// A fresh database with the plumbing tables, the stream, and an inbox
/// named `name` for questions to the referrer, its spec shaped by `shape`.
async fn bound<H: Handler>(
    backend: &Backend,
    dir: &std::path::Path,
    name: &str,
    handler: H,
    shape: impl FnOnce(ConsumerSpec) -> ConsumerSpec,
) -> (DatabaseConnection, jetstream::Context, Inbox<H>) {
    let url = backend.fresh_url(dir).await;
    let db = pathway_common::db::connect(&DatabaseSettings {
        url,
        max_connections: 4,
    })
    .await
    .expect("the database opens");
    Plumbing::up(&db, None).await.expect("the plumbing tables");
    let settings = NatsSettings {
        url: nats_account_url(),
        ..NatsSettings::default()
    };
    let nats = pathway_common::bus::connect(&settings, "test")
        .await
        .expect("nats-server answers");
    let jetstream = jetstream::new(nats);
    pathway_common::bus::ensure_streams(&jetstream, 1)
        .await
        .expect("the streams");
    let spec = shape(ConsumerSpec {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(40),
        ..ConsumerSpec::new(name, vec!["pathway.v1.*.vetting.info_requested".into()])
    });
    let inbox = Inbox::new(
        &jetstream,
        db.clone(),
        spec,
        handler,
        Metrics::new("test"),
        OutboxSignal::default(),
    )
    .await
    .expect("the consumer binds");
    (db, jetstream, inbox)
}

async fn publish(jetstream: &jetstream::Context, event: &Event) {
    let subject = event.subject().expect("an event with a payload");
    jetstream
        .publish(subject, event.encode_to_vec().into())
        .await
        .expect("published")
        .await
        .expect("stored");
}

#[tokio::test]
async fn demo_data_reaches_only_a_consumer_that_takes_it_and_never_production() {
    let Some(backend) = backends().await.into_iter().next() else {
        return;
    };
    let referral = uuid::Uuid::new_v4().to_string();
    let mut demo = info_requested("highland", &referral, "a demo question");
    demo.demo = true;
    let real = info_requested("highland", &referral, "a real question");
    let run = uuid::Uuid::new_v4().simple().to_string();
    for (mode, expected, effects_left) in [
        (
            DemoEvents::Ignore,
            Outcome::Ignored,
            vec![real.event_id.clone()],
        ),
        (
            DemoEvents::Take,
            Outcome::Handled,
            vec![demo.event_id.clone(), real.event_id.clone()],
        ),
        (
            DemoEvents::Refuse,
            Outcome::DeadLettered,
            vec![real.event_id.clone()],
        ),
    ] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let name = format!("demo-{mode:?}-{run}").to_lowercase();
        let (db, jetstream, inbox) =
            bound(&backend, dir.path(), &name, Recorder::default(), |spec| {
                ConsumerSpec { demo: mode, ..spec }
            })
            .await;
        publish(&jetstream, &demo).await;
        publish(&jetstream, &real).await;
        // Each round has an account, and so a stream, of its own.
        let mut outcomes = Vec::new();
        while let Ok(batch) = inbox.try_process_batch(64).await {
            if batch.is_empty() {
                break;
            }
            outcomes.extend(batch);
        }
        assert_eq!(outcomes.first(), Some(&expected), "{mode:?}: {outcomes:?}");
        assert_eq!(
            outcomes.get(1),
            Some(&Outcome::Handled),
            "{mode:?}: {outcomes:?}"
        );
        let mut left = effects_left;
        left.sort();
        assert_eq!(effects(&db).await, left, "{mode:?}");
    }
    // Which of the three a consumer is: production refuses demo data even
    // where development takes it, and so does a profile that cannot be read.
    use pathway_common::profile::Profile;
    for wanted in [DemoEvents::Ignore, DemoEvents::Take] {
        assert_eq!(
            DemoEvents::under(Some(Profile::Development), wanted),
            wanted
        );
        assert_eq!(
            DemoEvents::under(Some(Profile::Production), wanted),
            DemoEvents::Refuse
        );
        assert_eq!(DemoEvents::under(None, wanted), DemoEvents::Refuse);
    }
}
