//! Scale-out: two instances of each service on one database and one NATS
//! account, racing over the same rows, with nothing done twice. The relays
//! of two intakes publish each outbox row once; the lease sweeps of two
//! vettings release each lapsed claim once; the opt-in sweeps of two
//! decisions close each window once, and two copies of one event, handled
//! by either instance, make one decision and no dead letter; the senders of two notifications send
//! each delivery once, and take over what a dead instance left `sending`.
//!
//! Outbox relays share rows only on PostgreSQL (`FOR UPDATE SKIP LOCKED`);
//! SQLite runs one instance per file, so those tests skip it. The sweeps and
//! senders guard each row with a conditional update and run on both.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use pathway_common::audit;
use pathway_common::auth::Role;
use pathway_common::outbox;
use pathway_common::startup::{Service as _, Workers};
use pathway_notification::store::delivery::{self, Status};
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::intake::TestApp as IntakeApp;
use pathway_tests::notification::{
    NotifyGateway, TestApp as NotificationApp, WebhookReceiver, decision_recorded,
};
use pathway_tests::referrals::valid_referral;
use pathway_tests::scale_out::{Publishes, another};
use pathway_tests::vetting::VettingApp;
use pathway_tests::{Backend, backends, eventually};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// No relay: the test drives the relays itself.
fn without_relay() -> Workers {
    Workers {
        relay: false,
        ..Workers::default()
    }
}

/// No sweep: the test runs the sweeps itself, at the same instant.
fn without_sweeps() -> Workers {
    Workers {
        sweeps: false,
        ..Workers::default()
    }
}

async fn outbox_rows(db: &DatabaseConnection) -> Vec<outbox::entity::Model> {
    outbox::entity::Entity::find()
        .all(db)
        .await
        .expect("read the outbox")
}

/// Audit rows of `action`, counted per referral.
async fn audited(db: &DatabaseConnection, action: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for row in audit::entity::Entity::find()
        .filter(audit::entity::Column::Action.eq(action))
        .all(db)
        .await
        .expect("read the audit log")
    {
        *counts
            .entry(row.referral_id.unwrap_or_default())
            .or_default() += 1;
    }
    counts
}

/// The events on the stream for which `pick` answers, counted per referral.
async fn on_stream(
    jetstream: &async_nats::jetstream::Context,
    pick: impl Fn(&Event) -> bool,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for streamed in pathway_tests::stream_events(jetstream).await {
        if pick(&streamed.event) {
            *counts
                .entry(streamed.event.referral_id.clone())
                .or_default() += 1;
        }
    }
    counts
}

/// Wait until `read` counts every one of `ids` (and nothing else), then a
/// little longer, and answer what it counts then: a late second copy shows.
async fn settle<F, Fut>(ids: &[String], read: F) -> HashMap<String, usize>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = HashMap<String, usize>>,
{
    eventually(Duration::from_secs(20), || async {
        let counts = read().await;
        ids.iter().all(|id| counts.contains_key(id)).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("not every one of {} was seen in time", ids.len()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    read().await
}

/// Every one of `ids` exactly once, and nothing else.
fn once_each(counts: &HashMap<String, usize>, ids: &[String], what: &str) {
    let expected: BTreeMap<&str, usize> = ids.iter().map(|id| (id.as_str(), 1)).collect();
    let found: BTreeMap<&str, usize> = counts.iter().map(|(id, n)| (id.as_str(), *n)).collect();
    assert_eq!(found, expected, "{what}: each once");
}

/// PostgreSQL, or a note that the test does not apply without it.
async fn postgres() -> Option<Backend> {
    let found = backends()
        .await
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)));
    if found.is_none() {
        eprintln!(
            "skipped: no PostgreSQL answers; relays share an outbox only on PostgreSQL \
             (SQLite runs one instance per file)"
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_over_one_outbox_publish_each_row_once_and_share_the_work() {
    let Some(backend) = postgres().await else {
        return;
    };
    let first = IntakeApp::spawn_with(&backend, without_relay()).await;
    let second = another(&*first, without_relay()).await;
    let publishes = Publishes::start(&first.nats).await;
    first.enable_board("highland").await;
    let token = first.token(Role::Referrer, &["highland"]);
    for i in 0..60 {
        let instance = if i % 2 == 0 { &*first } else { &second };
        let response = instance
            .http
            .post(format!("{}/v1/referrals", instance.base))
            .bearer_auth(&token)
            .json(&valid_referral("highland"))
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status(), 201);
    }
    let rows: Vec<String> = outbox_rows(&first.db)
        .await
        .into_iter()
        .map(|row| row.event_id)
        .collect();
    assert!(
        rows.len() > 60,
        "a referral.received each and the switch-on"
    );

    // Both relays at once over the same rows, a few rows at a time.
    let drain = |relay: outbox::Relay| async move {
        let mut published = 0;
        loop {
            match relay
                .try_publish_batch()
                .await
                .expect("the relay publishes")
            {
                0 => return published,
                n => published += n,
            }
        }
    };
    let relay_a = first.app.platform().relay().with_batch_size(5);
    let relay_b = second.app.platform().relay().with_batch_size(5);
    let (a, b) = tokio::join!(tokio::spawn(drain(relay_a)), tokio::spawn(drain(relay_b)));
    let (a, b) = (a.expect("relay a"), b.expect("relay b"));
    // A relay stops when it finds nothing it may take: the rows the other
    // holds are the other's. Whatever is left goes on the next pass.
    let rest = first
        .app
        .platform()
        .relay()
        .try_publish_batch()
        .await
        .expect("relay");
    assert_eq!(a + b + rest, rows.len(), "each row published by one relay");
    assert!(a > 0 && b > 0, "both relays took a share ({a} and {b})");
    assert!(
        outbox_rows(&first.db)
            .await
            .iter()
            .all(|row| row.published_at.is_some()),
        "every row marked published"
    );
    let counts = settle(&rows, || async { publishes.counts() }).await;
    once_each(&counts, &rows, "messages on the wire per Nats-Msg-Id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_intakes_with_their_relays_running_publish_each_referral_once() {
    let Some(backend) = postgres().await else {
        return;
    };
    let first = IntakeApp::spawn(&backend).await;
    let second = another(&*first, Workers::default()).await;
    let publishes = Publishes::start(&first.nats).await;
    first.enable_board("highland").await;
    let token = first.token(Role::Referrer, &["highland"]);
    let post = |instance: &pathway_tests::running::Running<pathway_intake::application::Intake>| {
        let request = instance
            .http
            .post(format!("{}/v1/referrals", instance.base))
            .bearer_auth(&token)
            .json(&valid_referral("highland"));
        async move {
            let response = request.send().await.expect("intake answers");
            assert_eq!(response.status(), 201);
        }
    };
    // Commits on both instances wake both relays over the same table.
    for _ in 0..40 {
        tokio::join!(post(&first), post(&second));
    }
    let rows: Vec<String> = outbox_rows(&first.db)
        .await
        .into_iter()
        .map(|row| row.event_id)
        .collect();
    let counts = settle(&rows, || async { publishes.counts() }).await;
    once_each(&counts, &rows, "messages on the wire per Nats-Msg-Id");
    let published = first.metric("outbox_published_total", &[]).await
        + second.metric("outbox_published_total", &[]).await;
    assert_eq!(published as usize, rows.len(), "each row marked once");
    assert!(publishes.repeated().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_vettings_sweeping_at_once_release_each_lapsed_claim_once() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let first = VettingApp::spawn(&intake, &backend).await;
        // The same clock: both instances see the leases lapse.
        let second = another(&*first, without_sweeps()).await;
        let clinician = intake.token_for("dr-a", Role::Clinician, &["highland"]);
        let mut ids = Vec::new();
        for _ in 0..24 {
            ids.push(intake.refer(&valid_referral("highland")).await);
        }
        for (i, id) in ids.iter().enumerate() {
            first.wait_for_referral("highland", id).await;
            let instance = if i % 2 == 0 { &*first } else { &second };
            // Two instances on one SQLite file may find it busy: the answer
            // is a 503 that asks the client to send it again, as it does.
            let claimed = eventually(Duration::from_secs(10), || async {
                let response = instance
                    .http
                    .post(format!("{}/v1/referrals/{id}/claim", instance.base))
                    .bearer_auth(&clinician)
                    .send()
                    .await
                    .expect("vetting answers");
                match response.status().as_u16() {
                    503 => None,
                    status => Some((status, response.text().await.unwrap_or_default())),
                }
            })
            .await;
            let (status, body) = claimed.expect("the claim is answered");
            assert_eq!(status, 200, "claim {id} on {}: {body}", backend.name());
        }
        // The default lease is 30 minutes.
        first.clock.advance(chrono::Duration::minutes(31));
        let mut released = 0;
        for _ in 0..3 {
            let (a, b) = tokio::join!(first.app.expire_leases(), second.app.expire_leases());
            released += a.expect("sweep a") + b.expect("sweep b");
        }
        assert_eq!(released, ids.len(), "{}: each lapsed once", backend.name());

        let lapsed = |event: &Event| matches!(&event.payload, Some(Payload::VettingReleased(r)) if r.reason == "lapsed");
        let counts = settle(&ids, || on_stream(&intake.jetstream, lapsed)).await;
        once_each(&counts, &ids, "vetting.released (lapsed)");
        once_each(
            &audited(&first.db, "referral.lease_lapsed").await,
            &ids,
            "audit rows",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_decisions_sweeping_at_once_close_each_opt_in_window_once() {
    for backend in backends().await {
        let first = pathway_tests::decision::TestApp::spawn(&backend).await;
        let second = another(&*first, without_sweeps()).await;
        let ids: Vec<String> = (0..30)
            .map(|_| pathway_tests::decision::new_referral())
            .collect();
        for id in &ids {
            let vetted = pathway_tests::decision::vetting_completed(
                "highland",
                id,
                pathway_tests::decision::outcome(proto::OutcomeKind::PatientOptIn),
                false,
            );
            first.send(&vetted).await;
            // A second copy under another message id: the stream keeps both,
            // and the two instances may handle them at the same moment.
            first
                .publish(&vetted, &format!("{}-copy", vetted.event_id))
                .await;
        }
        for id in &ids {
            first.wait_for_decisions(id, 1).await;
        }
        let duplicates = eventually(Duration::from_secs(10), || async {
            let n = first
                .metric("inbox_messages_total", &["outcome=\"duplicate\""])
                .await
                + second
                    .metric("inbox_messages_total", &["outcome=\"duplicate\""])
                    .await;
            (n as usize >= ids.len()).then_some(n as usize)
        })
        .await
        .expect("every copy is recognised as handled");
        assert_eq!(duplicates, ids.len(), "{}", backend.name());
        for id in &ids {
            assert_eq!(
                first.decision_rows(id).await.len(),
                1,
                "one decision for {id}"
            );
        }
        assert!(
            first.dead_letters().await.is_empty(),
            "no copy is dead-lettered"
        );
        let later = chrono::Utc::now() + chrono::Duration::days(60);
        let mut closed = 0;
        for _ in 0..3 {
            let (a, b) = tokio::join!(
                first.app.close_lapsed_opt_in_windows(later),
                second.app.close_lapsed_opt_in_windows(later)
            );
            closed += a.expect("sweep a") + b.expect("sweep b");
        }
        assert_eq!(
            closed,
            ids.len(),
            "{}: each window closed once",
            backend.name()
        );
        let passed =
            |event: &Event| matches!(&event.payload, Some(Payload::DecisionOptInLapsed(_)));
        let counts = settle(&ids, || on_stream(&first.jetstream, passed)).await;
        once_each(&counts, &ids, "decision.opt_in_lapsed");
        once_each(
            &audited(&first.db, "opt_in.lapse").await,
            &ids,
            "audit rows",
        );
    }
}

fn accept() -> proto::Outcome {
    proto::Outcome {
        kind: proto::OutcomeKind::Accept as i32,
        priority: proto::Priority::Routine as i32,
        mode: proto::AppointmentMode::Video as i32,
        ..proto::Outcome::default()
    }
}

/// Each delivery's id as many times as the gateway and the GP's receiver
/// took it.
fn sent_at_the_far_end(
    gateway: &NotifyGateway,
    receiver: &WebhookReceiver,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for taken in gateway.taken() {
        *counts.entry(taken.reference).or_default() += 1;
    }
    for hook in receiver.hooks() {
        *counts.entry(hook.delivery).or_default() += 1;
    }
    counts
}

async fn all_deliveries(db: &DatabaseConnection) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .all(db)
        .await
        .expect("read deliveries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_notifications_sending_at_once_send_each_delivery_once() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        // Both senders poll every 50 ms over the same due rows, 4 at a time.
        let first = NotificationApp::spawn_with(
            &backend,
            &intake,
            &gateway,
            &receiver,
            Workers::default(),
            |settings| settings.sender.batch = 4,
        )
        .await;
        let second = another(&*first, Workers::default()).await;
        let mut referrals = Vec::new();
        for _ in 0..20 {
            let id = intake.refer(&valid_referral("highland")).await;
            first
                .send(&decision_recorded("highland", &id, accept()))
                .await;
            referrals.push(id);
        }
        for id in &referrals {
            first.wait_until_settled(id, 2).await;
        }
        let rows = all_deliveries(&first.db).await;
        assert_eq!(rows.len(), referrals.len() * 2, "an SMS and a webhook each");
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        for row in &rows {
            assert_eq!(row.status, Status::Sent, "{} on {}", row.id, backend.name());
            assert_eq!(row.claims, 1, "{} taken by one instance once", row.id);
        }
        let counts = settle(&ids, || async { sent_at_the_far_end(&gateway, &receiver) }).await;
        // A Notify message is looked up by its reference before any second
        // try, so it arrives once. A webhook cannot be asked: one whose
        // answer never came (a loaded machine, a slow receiver) is sent
        // again by the same claimant with the same Pathway-Delivery, for the
        // receiver to drop; so it arrives at least once and at most once per
        // attempt. Either way one instance sent it (claims == 1 above).
        let mut exact: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let n = counts.get(&row.id).copied().unwrap_or(0);
            if row.channel == "webhook" {
                let attempts = usize::try_from(row.attempts).unwrap_or(0);
                assert!(
                    (1..=attempts.max(1)).contains(&n),
                    "webhook {} received {n} times in {attempts} attempts",
                    row.id
                );
                exact.insert(row.id.clone(), 1);
            } else {
                exact.insert(row.id.clone(), n);
            }
        }
        assert_eq!(counts.len(), ids.len(), "nothing nobody sent: {counts:?}");
        once_each(&exact, &ids, "messages at the gateway and the GP");

        let sent = |event: &Event| matches!(&event.payload, Some(Payload::NotificationSent(_)));
        let per_referral = settle(&referrals, || on_stream(&intake.jetstream, sent)).await;
        for id in &referrals {
            assert_eq!(per_referral.get(id), Some(&2), "notification.sent for {id}");
        }
        drop(second);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_a_dead_instance_left_sending_are_taken_over_once() {
    for backend in backends().await {
        let intake = IntakeApp::spawn(&backend).await;
        intake.enable_board("highland").await;
        let gateway = NotifyGateway::start().await;
        let receiver = WebhookReceiver::start().await;
        let first =
            NotificationApp::spawn(&backend, &intake, &gateway, &receiver, without_sweeps()).await;
        let second = another(&*first, without_sweeps()).await;
        let mut referrals = Vec::new();
        for _ in 0..10 {
            let id = intake.refer(&valid_referral("highland")).await;
            first
                .send(&decision_recorded("highland", &id, accept()))
                .await;
            referrals.push(id);
        }
        for id in &referrals {
            first.wait_until_planned(id, 2).await;
        }
        // An instance took every delivery and died: the SMS of every other
        // referral had reached the gateway, nothing else had.
        let lapsed = chrono::Utc::now() - chrono::Duration::seconds(1);
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                sea_orm::sea_query::Expr::value(Status::Sending),
            )
            .col_expr(delivery::Column::Claims, sea_orm::sea_query::Expr::value(1))
            .col_expr(
                delivery::Column::LeaseUntil,
                sea_orm::sea_query::Expr::value(lapsed),
            )
            .exec(&first.db)
            .await
            .expect("as a dead instance left them");
        let rows = all_deliveries(&first.db).await;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut sent_before = 0;
        for (i, id) in referrals.iter().enumerate() {
            if i % 2 == 0
                && let Some(sms) = rows
                    .iter()
                    .find(|r| &r.referral_id == id && r.channel == "sms")
            {
                gateway.already_has("sms", &sms.id);
                sent_before += 1;
            }
        }
        assert_eq!(sent_before, referrals.len() / 2);

        let mut finished = 0;
        for _ in 0..3 {
            let (a, b) = tokio::join!(first.app.try_send_due(), second.app.try_send_due());
            finished += a.expect("sender a") + b.expect("sender b");
        }
        assert_eq!(
            finished,
            ids.len(),
            "{}: each taken over once",
            backend.name()
        );
        for row in all_deliveries(&first.db).await {
            assert_eq!(row.status, Status::Sent, "{}", row.id);
            assert_eq!(
                row.claims, 2,
                "{}: the dead claim, then one instance's",
                row.id
            );
        }
        let counts = settle(&ids, || async { sent_at_the_far_end(&gateway, &receiver) }).await;
        once_each(&counts, &ids, "messages at the gateway and the GP");
    }
}
