//! Unit tests of `consumer.rs`: a batch handled as the inbox handles one
//! (one transaction, a savepoint per board event, rolled back when the
//! event fails; a referral's event writes nothing until the batch ends)
//! leaves the facts of the events that were handled, one after the
//! other, and counters equal to those worked out again from the facts.

use chrono::{DateTime, Duration, TimeZone, Utc};
use pathway_proto::v1 as proto;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use super::*;
use crate::store::{Migrator, fact, facts, metric_counter};

/// A small, fixed pseudo-random sequence (xorshift), so a failure repeats.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

const BOARDS: [&str; 2] = ["highland", "fife"];

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("a time")
}

fn referral_id(i: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x1000 + u128::from(i))
}

/// Events of referrals in `boards`, interleaved in time: receipt, claim,
/// perhaps a question and its answer, vetting, perhaps a failed
/// notification or a withdrawal, perhaps a correction.
fn referral_events(r: &mut Random, referrals: u64) -> Vec<Event> {
    let mut out = Vec::new();
    for i in 0..referrals {
        let board = BOARDS[r.below(BOARDS.len() as u64) as usize];
        let id = Some(referral_id(i));
        let received = start() + Duration::minutes(r.below(60 * 24 * 90) as i64);
        let mut push = |at: DateTime<Utc>, payload: Payload| {
            out.push(Event::new(board, id, "test", at, payload));
        };
        push(
            received,
            Payload::ReferralReceived(proto::ReferralReceived {
                patient: Some(proto::PatientAttributes {
                    age_band: ["25-34", "45-54", "65-74"][r.below(3) as usize].into(),
                    sex: proto::Sex::Female as i32,
                    urban_rural_class: r.below(7) as u32,
                    simd_quintile: r.below(6) as u32,
                    patient_pseudonym: format!("p{}", r.below(20)),
                }),
                received_at: Some(proto::timestamp(received)),
                ..Default::default()
            }),
        );
        let claimed = received + Duration::hours(2 + r.below(48) as i64);
        push(
            claimed,
            Payload::VettingClaimed(proto::VettingClaimed {
                clinician: "c".into(),
                lease_expires_at: None,
            }),
        );
        let mut vetted = claimed + Duration::hours(r.below(24 * 20) as i64);
        if r.below(3) == 0 {
            let question = format!("q{i}");
            push(
                claimed + Duration::hours(1),
                Payload::VettingInfoRequested(proto::VettingInfoRequested {
                    information_request_id: question.clone(),
                    ..Default::default()
                }),
            );
            let answered = claimed + Duration::hours(2 + r.below(24 * 5) as i64);
            push(
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: question,
                }),
            );
            vetted = vetted.max(answered + Duration::hours(1));
        }
        let kinds = [
            proto::OutcomeKind::Accept,
            proto::OutcomeKind::AdviceToReferrer,
            proto::OutcomeKind::Physiotherapy,
        ];
        let mut complete = |at: DateTime<Utc>, kind: proto::OutcomeKind, correction: bool| {
            push(
                at,
                Payload::VettingCompleted(proto::VettingCompleted {
                    outcome: Some(proto::Outcome {
                        kind: kind as i32,
                        priority: proto::Priority::Routine as i32,
                        ..Default::default()
                    }),
                    correction,
                    ..Default::default()
                }),
            );
        };
        complete(vetted, kinds[r.below(3) as usize], false);
        if r.below(5) == 0 {
            complete(vetted + Duration::days(1), kinds[r.below(3) as usize], true);
        }
        match r.below(6) {
            0 => push(
                vetted + Duration::minutes(5),
                Payload::NotificationFailed(proto::NotificationFailed {
                    reason: "no such number".into(),
                    ..Default::default()
                }),
            ),
            1 => push(
                received + Duration::days(1),
                Payload::ReferralWithdrawn(proto::ReferralWithdrawn::default()),
            ),
            _ => {}
        }
    }
    out.sort_by_key(|e| e.occurred_at.map(|t| (t.seconds, t.nanos)));
    out
}

fn pathway_changed(board: &str, on: &str, at: DateTime<Utc>) -> Event {
    Event::new(
        board,
        None,
        "admin",
        at,
        Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
            enabled: true,
            effective_date: on.into(),
            ..Default::default()
        }),
    )
}

fn settings_changed(board: &str, target: u32, at: DateTime<Utc>) -> Event {
    let settings = BoardSettings {
        vetting_target_working_days: target,
        ..BoardSettings::default()
    };
    Event::new(
        board,
        None,
        "admin",
        at,
        Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
            vetting_target_working_days: target,
            settings_json: serde_json::to_string(&settings).expect("settings serialise"),
            ..Default::default()
        }),
    )
}

async fn migrated(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("a database");
    Migrator::up(&db, None).await.expect("migrations apply");
    db
}

/// One batch, as the inbox handles it: the batch begins, each event that
/// writes as it is handled in a savepoint of its own (rolled back when it
/// fails), the batch ends, one commit. Answers whether each event was handled.
async fn handle_batch(
    db: &DatabaseConnection,
    consumer: &AnalyticsConsumer,
    events: &[Event],
) -> Vec<bool> {
    let txn = db.begin().await.expect("begin");
    let all: Vec<&Event> = events.iter().collect();
    consumer
        .begin_batch(&txn, &all)
        .await
        .expect("the batch begins");
    let mut handled = Vec::new();
    for event in events {
        // As the inbox does: a savepoint only for an event that writes as
        // it is handled.
        if !consumer.writes_when_handling(event) {
            handled.push(consumer.handle(&txn, event, ()).await.is_ok());
            continue;
        }
        let savepoint = txn.begin().await.expect("a savepoint");
        let ok = consumer.handle(&savepoint, event, ()).await.is_ok();
        if ok {
            savepoint.commit().await.expect("release");
        } else {
            savepoint.rollback().await.expect("roll back");
        }
        handled.push(ok);
    }
    consumer.end_batch(&txn).await.expect("the batch ends");
    txn.commit().await.expect("commit");
    handled
}

type CounterRow = (String, String, String, String, String, i64);

async fn counters(db: &impl ConnectionTrait) -> Vec<CounterRow> {
    metric_counter::Entity::find()
        .order_by_asc(metric_counter::Column::Dimension)
        .order_by_asc(metric_counter::Column::Board)
        .order_by_asc(metric_counter::Column::Day)
        .order_by_asc(metric_counter::Column::GroupName)
        .order_by_asc(metric_counter::Column::Counter)
        .all(db)
        .await
        .expect("read the counters")
        .into_iter()
        .filter(|c| c.n != 0)
        .map(|c| (c.dimension, c.board, c.day, c.group_name, c.counter, c.n))
        .collect()
}

async fn stored_facts(db: &impl ConnectionTrait) -> Vec<Fact> {
    fact::Entity::find()
        .order_by_asc(fact::Column::ReferralId)
        .all(db)
        .await
        .expect("read the facts")
        .iter()
        .map(|row| facts::from_row(row).expect("a stored fact reads"))
        .collect()
}

/// Batches with events that fail among those that are handled: an event
/// with no time (rejected) in the middle of its referral's events, a board
/// event that fails after the facts changed so far were written (its event
/// id recorded already: the savepoint rolls the writes back), and settings
/// and pathway changes between a referral's events.
async fn rolled_back_events_leave_nothing_behind(db: &DatabaseConnection) {
    let mut r = Random(0x00c0_ffee_1234_5678);
    let mut events = vec![
        pathway_changed("highland", "2025-04-01", start() - Duration::days(10)),
        settings_changed("fife", 5, start() - Duration::days(9)),
    ];
    events.extend(referral_events(&mut r, 120));
    // (event, whether it is handled)
    let mut batch_events: Vec<(Event, bool)> = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let at = event.occurred_at().expect("a time");
        let board = event.board.clone();
        let mut no_time = event.clone();
        batch_events.push((event, true));
        if i % 37 == 5 {
            no_time.event_id = uuid::Uuid::now_v7().to_string();
            no_time.occurred_at = None;
            batch_events.push((no_time, false));
        }
        if i % 53 == 20 {
            // The same change twice: the second fails on its event id,
            // after writing the batch's facts.
            let changed = settings_changed(&board, 3 + (i % 10) as u32, at);
            batch_events.push((changed.clone(), true));
            batch_events.push((changed, false));
        }
        if i % 97 == 40 {
            batch_events.push((pathway_changed(&board, "2025-05-12", at), true));
        }
    }
    assert!(batch_events.iter().filter(|(_, ok)| !ok).count() > 10);
    let consumer = AnalyticsConsumer::default();
    let mut expected: std::collections::BTreeMap<String, Fact> = Default::default();
    for batch in batch_events.chunks(64) {
        let events: Vec<Event> = batch.iter().map(|(event, _)| event.clone()).collect();
        let handled = handle_batch(db, &consumer, &events).await;
        for ((event, expect_ok), ok) in batch.iter().zip(handled) {
            assert_eq!(ok, *expect_ok, "event {event:?}");
            if ok && let Ok(Some(referral)) = Fact::referral_of(event) {
                let board = BoardCode::parse(&event.board).expect("a board");
                expected
                    .entry(referral.to_owned())
                    .or_insert_with(|| Fact::new(referral, board))
                    .apply(event)
                    .expect("a handled event applies");
            }
        }
    }
    let mut expected: Vec<Fact> = expected.into_values().collect();
    assert_eq!(expected.len(), 120);
    // Each referral closed with advice keeps its patient's re-referrals.
    let receipts: Vec<(String, BoardCode, chrono::DateTime<chrono::Utc>)> = expected
        .iter()
        .filter_map(|f| {
            Some((
                f.attributes.patient_pseudonym.clone(),
                f.board,
                f.received_at?,
            ))
        })
        .collect();
    for fact in &mut expected {
        let of_patient: Vec<_> = receipts
            .iter()
            .filter(|(p, ..)| *p == fact.attributes.patient_pseudonym)
            .map(|(_, board, at)| (*board, *at))
            .collect();
        fact.re_referred = crate::domain::re_referrals::followed(fact, &of_patient);
    }
    assert_eq!(
        stored_facts(db).await,
        expected,
        "the facts are those of the events handled"
    );
    let kept = counters(db).await;
    assert!(!kept.is_empty(), "the batches counted something");
    let txn = db.begin().await.expect("begin");
    aggregates::recompute_all(&txn)
        .await
        .expect("the counters are worked out again");
    let recounted = counters(&txn).await;
    txn.rollback().await.expect("roll back");
    assert_eq!(
        kept, recounted,
        "the counters kept batch by batch are those of the facts"
    );
}

#[tokio::test]
async fn a_batch_with_rolled_back_events_keeps_counters_equal_to_its_facts() {
    let db = migrated("sqlite::memory:").await;
    rolled_back_events_leave_nothing_behind(&db).await;
}

/// The same on PostgreSQL, in a database of its own, when one answers at
/// `DATABASE_URL` (or the local default).
#[tokio::test]
async fn a_batch_with_rolled_back_events_keeps_counters_equal_to_its_facts_on_postgresql() {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let server = match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        Database::connect(url.as_str()),
    )
    .await
    {
        Ok(Ok(server)) => server,
        _ => {
            eprintln!("note: no PostgreSQL answers; the batch ran on SQLite only");
            return;
        }
    };
    let name = format!("analytics_batch_{}", uuid::Uuid::new_v4().simple());
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a database of its own");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let db = migrated(&format!("{base}/{name}")).await;
    rolled_back_events_leave_nothing_behind(&db).await;
    db.close().await.ok();
    server
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .expect("the database dropped");
}
