//! Analytics benchmark, against a real nats-server and a real SQLite file
//! (and PostgreSQL when one answers):
//!
//! - ingest: a generated history of referrals (receipt, claim, questions
//!   and answers, vetting, decision, notifications, withdrawals,
//!   corrections, opt-ins) is published onto the stream first; then the
//!   analytics service starts and the clock runs until its durable consumer
//!   has handled and acknowledged every event — events and referrals per
//!   second;
//! - query: the fact table is filled directly, by bulk insert, with the rows
//!   the service itself would write for 100 000 and then 1 000 000 referrals
//!   (the same generator, each referral's events applied to the service's
//!   own `Fact`), spread over 14 boards and three years; then representative
//!   `GET /v1/metrics` and `/v1/metrics.csv` queries are timed over HTTP
//!   with an evaluator's token — p50, p99 and max, and the process's peak
//!   resident memory while they ran.
//!
//! `make bench` runs it; the figures go into the README. Progress goes to
//! stderr, the figures to stdout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use hdrhistogram::Histogram;
use pathway_analytics::domain::fact::Fact;
use pathway_analytics::settings::Settings;
use pathway_analytics::startup::{Application, Workers};
use pathway_analytics::store::{fact, pathway_change, settings_change};
use pathway_common::auth::{Authenticator, Claims, Role};
use pathway_common::settings::{AuthSettings, DatabaseSettings, HttpSettings, NatsSettings};
use pathway_proto::board::{BOARD_CODES, BoardSettings, outcome_kind};
use pathway_proto::v1::{self as proto, Event, Payload};
use pathway_tests::{Backend, backends, nats_account_url};
use prost::Message as _;
use sea_orm::{DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Referrals published for the ingest run: about 4.6 events each.
const INGEST_REFERRALS: u64 = 5_000;
/// Fact table sizes the queries are timed at.
const QUERY_SIZES: [u64; 2] = [100_000, 1_000_000];
/// Each query is asked this many times, or for as long as [`QUERY_BUDGET`]
/// allows, and at least [`MIN_REPEATS`] times.
const REPEATS: u64 = 30;
const MIN_REPEATS: u64 = 5;
const QUERY_BUDGET: Duration = Duration::from_secs(20);
/// Rows per INSERT statement (22 columns: well inside SQLite's 32 766 and
/// PostgreSQL's 65 535 parameters), and per transaction.
const ROWS_PER_INSERT: usize = 500;
const ROWS_PER_TRANSACTION: usize = 50_000;

/// Three years of referrals: 1 October 2023 to 30 September 2026.
fn history_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 10, 1).expect("a date")
}
const HISTORY_DAYS: u64 = 1096;

/// The queries timed: (name, path and query string).
const QUERIES: [(&str, &str); 4] = [
    (
        "1 board, by month, 1 year",
        "/v1/metrics?boards=greater-glasgow-clyde&from=2025-10-01&to=2026-09-30&by=month",
    ),
    (
        "14 boards, by quarter, 3 years",
        "/v1/metrics?boards=all&from=2023-10-01&to=2026-09-30&by=quarter",
    ),
    (
        "1 board, by month, split=simd",
        "/v1/metrics?boards=lothian&from=2025-10-01&to=2026-09-30&by=month&split=simd",
    ),
    (
        "CSV: 14 boards, by month, 1 year",
        "/v1/metrics.csv?boards=all&from=2025-10-01&to=2026-09-30&by=month",
    ),
];

#[tokio::main]
async fn main() {
    pathway_common::telemetry::init_for_tests();
    let backends = backends().await;
    println!(
        "analytics ingest: {INGEST_REFERRALS} referrals' events on the stream before the service starts; \
         time until every event is handled and acknowledged"
    );
    println!(
        "{:<10} {:>10} {:>8} {:>9} {:>10} {:>12}",
        "database", "referrals", "events", "seconds", "events/s", "referrals/s"
    );
    for backend in &backends {
        ingest(backend).await;
    }
    println!();
    println!(
        "analytics query: GET over HTTP with an evaluator's token, each query up to {REPEATS} times \
         (at least {MIN_REPEATS}, else within {} s)",
        QUERY_BUDGET.as_secs()
    );
    println!(
        "{:<10} {:>9} {:<34} {:>4} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "database", "facts", "query", "n", "p50 ms", "p99 ms", "max ms", "rows", "peak MiB"
    );
    for backend in &backends {
        queries(backend).await;
    }
}

// ---------------------------------------------------------------------------
// The service on a fresh database and a NATS account of its own.

struct Service {
    base: String,
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    authenticator: Authenticator,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Arc<tempfile::TempDir>,
}

async fn settings(backend: &Backend, dir: &tempfile::TempDir) -> Settings {
    Settings {
        http: HttpSettings::with_port(0),
        database: DatabaseSettings {
            url: backend.fresh_url(dir.path()).await,
            max_connections: 5,
        },
        nats: NatsSettings {
            url: nats_account_url(),
            ..NatsSettings::default()
        },
        auth: AuthSettings {
            local_key_file: dir.path().join("jwt.key"),
            ..AuthSettings::default()
        },
        ..Settings::default()
    }
}

impl Service {
    async fn build(
        settings: Settings,
        dir: Arc<tempfile::TempDir>,
        workers: Workers,
    ) -> (Self, Application) {
        let application = Application::build_with(settings.clone(), workers)
            .await
            .expect("analytics builds against real NATS and a real database");
        let nats = pathway_common::bus::connect(&settings.nats, "bench")
            .await
            .expect("the bench connects to NATS");
        let service = Self {
            base: format!("http://127.0.0.1:{}", application.port()),
            db: application.service().platform.db.clone(),
            jetstream: jetstream::new(nats),
            authenticator: Authenticator::from_settings(&settings.auth).expect("the local key"),
            shutdown: CancellationToken::new(),
            handle: None,
            _dir: dir,
        };
        (service, application)
    }

    fn run(&mut self, application: Application) {
        self.handle = Some(tokio::spawn(
            application.run_until_stopped(self.shutdown.clone()),
        ));
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        self.db.close().await.ok();
    }

    fn evaluator_token(&self) -> String {
        let claims = Claims::new(
            "bench-evaluator",
            Role::Evaluator,
            BOARD_CODES.iter().map(|b| (*b).to_owned()).collect(),
            Duration::from_secs(3600),
        );
        self.authenticator.issue(&claims).expect("sign a token")
    }
}

// ---------------------------------------------------------------------------
// Ingest.

async fn ingest(backend: &Backend) {
    let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    let settings = settings(backend, &dir).await;
    // Build first: that migrates the database and ensures the stream; the
    // consumer starts only with `run`, after the history is on the stream.
    let (mut service, application) = Service::build(settings, dir, Workers::default()).await;

    let mut rng = Rng(0x5eed_0001);
    let patients = INGEST_REFERRALS * 85 / 100;
    let mut events = board_events();
    for _ in 0..INGEST_REFERRALS {
        events.extend(referral(&mut rng, patients).events);
    }
    // Referrals interleave in time, as they do on the real stream.
    events.sort_by_key(|e| e.occurred_at.map(|t| (t.seconds, t.nanos)));
    let total = events.len() as u64;
    eprintln!("{}: publishing {total} events", backend.name());
    let published = Instant::now();
    for chunk in events.chunks(1_000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for event in chunk {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.event_id.as_str());
            acks.push(
                service
                    .jetstream
                    .publish_with_headers(
                        event.subject().expect("an event with a payload"),
                        headers,
                        event.encode_to_vec().into(),
                    )
                    .await
                    .expect("publish"),
            );
        }
        for ack in acks {
            ack.await.expect("the stream acknowledges");
        }
    }
    eprintln!(
        "{}: {total} events on the stream in {:.1} s; starting analytics",
        backend.name(),
        published.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    service.run(application);
    let mut last_report = Instant::now();
    loop {
        let info = match service
            .jetstream
            .get_consumer_from_stream::<jetstream::consumer::pull::Config, _, _>(
                "analytics",
                pathway_proto::stream::NAME,
            )
            .await
        {
            Ok(mut consumer) => consumer.info().await.ok().cloned(),
            Err(_) => None,
        };
        if let Some(info) = &info {
            if info.num_pending == 0
                && info.num_ack_pending == 0
                && info.ack_floor.stream_sequence >= total
            {
                break;
            }
            if last_report.elapsed() > Duration::from_secs(5) {
                eprintln!(
                    "{}: {} of {total} events handled after {:.0} s",
                    backend.name(),
                    info.ack_floor.stream_sequence,
                    started.elapsed().as_secs_f64()
                );
                last_report = Instant::now();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "analytics did not handle {total} events in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let facts = fact::Entity::find()
        .count(&service.db)
        .await
        .expect("count the facts");
    assert_eq!(
        facts, INGEST_REFERRALS,
        "every referral should have its fact once the consumer is done"
    );
    println!(
        "{:<10} {:>10} {:>8} {:>9.1} {:>10.0} {:>12.0}",
        backend.name(),
        INGEST_REFERRALS,
        total,
        seconds,
        total as f64 / seconds,
        INGEST_REFERRALS as f64 / seconds
    );
    service.stop().await;
}

// ---------------------------------------------------------------------------
// Queries.

async fn queries(backend: &Backend) {
    let dir = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    let settings = settings(backend, &dir).await;
    // Nothing on the stream: the facts are loaded directly.
    let workers = Workers {
        relay: false,
        consumers: false,
        sweeps: false,
        rpc: false,
    };
    let (mut service, application) = Service::build(settings, dir, workers).await;
    seed_boards(&service.db).await;
    let http = reqwest::Client::new();
    let token = service.evaluator_token();
    service.run(application);

    let mut rng = Rng(0x5eed_0002);
    let patients = QUERY_SIZES[QUERY_SIZES.len() - 1] * 85 / 100;
    let mut seeded = 0;
    for size in QUERY_SIZES {
        seed_facts(
            backend,
            &service.db,
            &mut rng,
            patients,
            size - seeded,
            seeded,
        )
        .await;
        seeded = size;
        for (name, path) in QUERIES {
            time_query(backend, &http, &service.base, &token, size, name, path).await;
        }
    }
    service.stop().await;
}

async fn time_query(
    backend: &Backend,
    http: &reqwest::Client,
    base: &str,
    token: &str,
    facts: u64,
    name: &str,
    path: &str,
) {
    let url = format!("{base}{path}");
    let csv = path.starts_with("/v1/metrics.csv");
    // Peak RSS of this run only: "5" resets the high-water mark.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut histogram = Histogram::<u64>::new(3).expect("a histogram");
    let mut rows = 0;
    let started = Instant::now();
    let mut n = 0;
    while n < REPEATS && (n < MIN_REPEATS || started.elapsed() < QUERY_BUDGET) {
        let sent = Instant::now();
        let response = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("analytics answers");
        assert_eq!(response.status(), 200, "GET {path}");
        let body = response.text().await.expect("a body");
        let latency = sent.elapsed();
        histogram
            .record(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX))
            .expect("record");
        rows = if csv {
            body.lines().count().saturating_sub(1)
        } else {
            serde_json::from_str::<serde_json::Value>(&body).expect("a JSON report")["rows"]
                .as_array()
                .map_or(0, Vec::len)
        };
        assert!(rows > 0, "GET {path} answered no rows");
        n += 1;
    }
    let peak = peak_rss_mib()
        .map(|m| format!("{m:.0}"))
        .unwrap_or_else(|| "-".into());
    println!(
        "{:<10} {:>9} {:<34} {:>4} {:>9.1} {:>9.1} {:>9.1} {:>9} {:>9}",
        backend.name(),
        facts,
        name,
        n,
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
        rows,
        peak
    );
}

/// The process's resident high-water mark (bench, service and, for SQLite,
/// the database's page cache: they share the process).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Each board's switch-on and settings, as the consumer would have kept them.
async fn seed_boards(db: &DatabaseConnection) {
    for (i, board) in BOARD_CODES.iter().enumerate() {
        let changed_at = Utc.from_utc_datetime(
            &(adoption(i) - chrono::Days::new(30))
                .and_hms_opt(12, 0, 0)
                .expect("noon"),
        );
        pathway_change::Entity::insert(pathway_change::ActiveModel {
            event_id: sea_orm::Set(Uuid::now_v7().to_string()),
            board: sea_orm::Set((*board).to_owned()),
            enabled: sea_orm::Set(true),
            effective_date: sea_orm::Set(adoption(i)),
            changed_at: sea_orm::Set(changed_at),
        })
        .exec(db)
        .await
        .expect("insert a pathway change");
        settings_change::Entity::insert(settings_change::ActiveModel {
            event_id: sea_orm::Set(Uuid::now_v7().to_string()),
            board: sea_orm::Set((*board).to_owned()),
            settings_json: sea_orm::Set(board_settings_json(i)),
            changed_at: sea_orm::Set(changed_at),
        })
        .exec(db)
        .await
        .expect("insert a settings change");
    }
}

/// Insert `count` more facts, generated on a thread of their own while the
/// database writes the previous batch.
async fn seed_facts(
    backend: &Backend,
    db: &DatabaseConnection,
    rng: &mut Rng,
    patients: u64,
    count: u64,
    already: u64,
) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<fact::Model>>(8);
    let mut generator = Rng(rng.next());
    let producer = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(ROWS_PER_INSERT);
        for _ in 0..count {
            let referral = referral(&mut generator, patients);
            let board = pathway_proto::BoardCode::parse(referral.board).expect("a board code");
            let mut current = Fact::new(&referral.id, board);
            for event in &referral.events {
                current.apply(event).expect("a generated event applies");
            }
            batch.push(row(&current));
            if batch.len() == ROWS_PER_INSERT {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_INSERT));
                if sender.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
    });
    let started = Instant::now();
    let mut inserted = 0u64;
    let mut last_report = Instant::now();
    let mut txn = db.begin().await.expect("begin");
    let mut in_txn = 0;
    while let Some(batch) = receiver.recv().await {
        let n = batch.len();
        fact::Entity::insert_many(batch.into_iter().map(IntoActiveModel::into_active_model))
            .exec(&txn)
            .await
            .expect("insert facts");
        inserted += n as u64;
        in_txn += n;
        if in_txn >= ROWS_PER_TRANSACTION {
            txn.commit().await.expect("commit");
            txn = db.begin().await.expect("begin");
            in_txn = 0;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "{}: seeded {} of {} facts ({:.0}/s)",
                backend.name(),
                already + inserted,
                already + count,
                inserted as f64 / started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    txn.commit().await.expect("commit");
    producer.join().expect("the generator finishes");
    assert_eq!(inserted, count);
    eprintln!(
        "{}: {} facts in the table; {count} inserted in {:.1} s ({:.0}/s)",
        backend.name(),
        already + count,
        started.elapsed().as_secs_f64(),
        count as f64 / started.elapsed().as_secs_f64()
    );
}

/// The row the service writes for `fact`: every column, so a change to the
/// table fails to compile here.
fn row(fact: &Fact) -> fact::Model {
    fact::Model {
        referral_id: fact.referral_id.clone(),
        board: fact.board.code().to_owned(),
        route: fact.route.map(|r| r.as_str().to_owned()),
        received_at: fact.received_at,
        age_band: fact.attributes.age_band.clone(),
        sex: fact.attributes.sex.clone(),
        urban_rural_class: i16::from(fact.attributes.urban_rural_class),
        simd_quintile: i16::from(fact.attributes.simd_quintile),
        patient_pseudonym: fact.attributes.patient_pseudonym.clone(),
        red_flags: i32::try_from(fact.red_flags).expect("a few red flags"),
        re_referral: fact.re_referral,
        claimed_at: fact.claimed_at,
        pauses_json: serde_json::to_string(&fact.pauses).expect("pauses serialise"),
        vetted_at: fact.vetted_at,
        decided_at: fact.decided_at,
        outcome: fact.outcome.clone(),
        priority: fact.priority.clone(),
        notified_at: fact.notified_at,
        notification_failures: i32::try_from(fact.notification_failures).expect("a few failures"),
        withdrawn_at: fact.withdrawn_at,
        closed_at: fact.closed_at,
        closed_reason: fact.closed_reason.clone(),
    }
}

// ---------------------------------------------------------------------------
// The generated history.

/// A small deterministic generator (SplitMix64): the same history each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, weighted: &[(T, u64)]) -> T {
        let total: u64 = weighted.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (value, weight) in weighted {
            if at < *weight {
                return *value;
            }
            at -= weight;
        }
        weighted[weighted.len() - 1].0
    }
}

/// Boards weighted by population (thousands, NRS mid-year estimates, rounded).
const BOARD_WEIGHTS: [u64; 14] = [
    370, 116, 148, 374, 306, 586, 1185, 323, 661, 916, 22, 23, 417, 26,
];

/// Board `i` switches the pathway on four weeks after board `i - 1`, from
/// April 2024: referrals before then take the standard route.
fn adoption(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 4, 1).expect("a date") + chrono::Days::new(28 * i as u64)
}

fn board_settings_json(i: usize) -> String {
    let settings = BoardSettings {
        vetting_target_working_days: [5, 10, 15][i % 3],
        extra_holidays: vec![
            NaiveDate::from_ymd_opt(2025, 4, 21 + (i % 3) as u32).expect("a date"),
        ],
        ..BoardSettings::default()
    };
    serde_json::to_string(&settings).expect("settings serialise")
}

/// Each board's switch-on and settings, before the first referral.
fn board_events() -> Vec<Event> {
    let mut out = Vec::new();
    for (i, board) in BOARD_CODES.iter().enumerate() {
        let at = Utc.from_utc_datetime(
            &(history_start() - chrono::Days::new(30 - i as u64))
                .and_hms_opt(12, 0, 0)
                .expect("noon"),
        );
        out.push(Event::new(
            board,
            None,
            "admin",
            at,
            Payload::BoardPathwayChanged(proto::BoardPathwayChanged {
                enabled: true,
                effective_date: adoption(i).to_string(),
                changed_by: "admin".into(),
                reason: "go live".into(),
            }),
        ));
        out.push(Event::new(
            board,
            None,
            "admin",
            at + chrono::Duration::minutes(5),
            Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
                vetting_target_working_days: [5, 10, 15][i % 3],
                changed_by: "admin".into(),
                settings_json: board_settings_json(i),
            }),
        ));
    }
    out
}

const OUTCOME_WEIGHTS: [(&str, u64); 10] = [
    ("accept", 35),
    ("pain_management_programme", 8),
    ("pain_psychology", 8),
    ("physiotherapy", 12),
    ("advice_to_referrer", 12),
    ("self_management", 12),
    ("residential_programme", 2),
    ("redirect", 5),
    ("decline", 4),
    ("patient_opt_in", 2),
];

const AGE_BANDS: [(&str, u64); 10] = [
    ("16-24", 4),
    ("25-34", 10),
    ("35-44", 16),
    ("45-54", 22),
    ("55-64", 22),
    ("65-74", 14),
    ("75-84", 8),
    ("85+", 2),
    ("0-15", 0),
    ("unknown", 2),
];

struct Referral {
    id: String,
    board: &'static str,
    events: Vec<Event>,
}

/// One referral's life on the pathway, as the services would publish it.
fn referral(rng: &mut Rng, patients: u64) -> Referral {
    let board_index = rng.pick(
        &BOARD_WEIGHTS
            .iter()
            .enumerate()
            .map(|(i, w)| (i, *w))
            .collect::<Vec<_>>(),
    );
    let board = BOARD_CODES[board_index];
    let mut received_on = history_start() + chrono::Days::new(rng.below(HISTORY_DAYS));
    // GPs refer on weekdays.
    while matches!(received_on.weekday(), Weekday::Sat | Weekday::Sun) {
        received_on = received_on.succ_opt().expect("a next day");
    }
    let received = Utc.from_utc_datetime(
        &received_on
            .and_hms_opt(
                8 + rng.below(10) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            )
            .expect("a time"),
    );
    let id = uuid::Builder::from_random_bytes(
        [rng.next().to_le_bytes(), rng.next().to_le_bytes()]
            .concat()
            .try_into()
            .expect("16 bytes"),
    )
    .into_uuid();
    let patient = rng.below(patients);
    let pseudonym = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        Rng(patient).next(),
        Rng(patient + 1).next(),
        Rng(patient + 2).next(),
        Rng(patient + 3).next()
    );
    let attributes = proto::PatientAttributes {
        age_band: rng.pick(&AGE_BANDS).into(),
        sex: rng.pick(&[
            (proto::Sex::Female, 58),
            (proto::Sex::Male, 41),
            (proto::Sex::NotKnown, 1),
        ]) as i32,
        urban_rural_class: rng.pick(&[(0, 2), (1, 35), (2, 30), (3, 10), (4, 8), (5, 7), (6, 8)]),
        simd_quintile: rng.pick(&[(0, 2), (1, 24), (2, 22), (3, 19), (4, 17), (5, 16)]),
        patient_pseudonym: pseudonym,
    };
    let mut events = Vec::new();
    let mut push = |at: DateTime<Utc>, payload: Payload| {
        events.push(Event::new(board, Some(id), "bench", at, payload));
    };
    let hours = chrono::Duration::hours;
    let days = chrono::Duration::days;

    if received_on < adoption(board_index) {
        push(
            received,
            Payload::ReferralRoutedStandard(proto::ReferralRoutedStandard {
                patient: Some(attributes),
                practice_code: format!("{:05}", 10_000 + rng.below(90_000)),
                reason: "board_not_on_pathway".into(),
                received_at: Some(proto::timestamp(received)),
            }),
        );
        return finish(id, board, events);
    }
    let red_flags = if rng.chance(8) {
        vec![proto::RedFlag::NonMechanicalNightPain as i32]
    } else {
        Vec::new()
    };
    push(
        received,
        Payload::ReferralReceived(proto::ReferralReceived {
            patient: Some(attributes),
            practice_code: format!("{:05}", 10_000 + rng.below(90_000)),
            red_flags,
            pain_intensity: 4 + rng.below(7) as u32,
            pain_duration_months: 3 + rng.below(60) as u32,
            re_referral: rng.chance(6),
            received_at: Some(proto::timestamp(received)),
        }),
    );
    if rng.chance(4) {
        push(
            received + days(1 + rng.below(10) as i64),
            Payload::ReferralWithdrawn(proto::ReferralWithdrawn {
                previous_status: "awaiting_vetting".into(),
                reason_code: "patient_request".into(),
            }),
        );
        return finish(id, board, events);
    }
    let claimed = received + hours(2 + rng.below(60) as i64);
    push(
        claimed,
        Payload::VettingClaimed(proto::VettingClaimed {
            clinician: format!("clinician-{}", rng.below(40)),
            lease_expires_at: None,
        }),
    );
    // Most are vetted within a few days; a long tail waits weeks.
    let mut vetted = claimed
        + days(if rng.chance(25) {
            3 + rng.below(25)
        } else {
            rng.below(4)
        } as i64)
        + hours(rng.below(6) as i64);
    if rng.chance(12) {
        let question = format!("q-{}", rng.next());
        let asked = claimed + hours(1);
        push(
            asked,
            Payload::VettingInfoRequested(proto::VettingInfoRequested {
                information_request_id: question.clone(),
                clinician: "clinician".into(),
                question: "How long has the pain lasted?".into(),
            }),
        );
        if rng.chance(85) {
            let answered = asked + days(1 + rng.below(10) as i64);
            push(
                answered,
                Payload::ReferralInfoProvided(proto::ReferralInfoProvided {
                    information_request_id: question,
                }),
            );
            vetted = vetted.max(answered + days(1 + rng.below(3) as i64));
        } else {
            vetted = vetted.max(asked + days(10 + rng.below(10) as i64));
        }
    }
    let code = rng.pick(&OUTCOME_WEIGHTS);
    let priority = if code == "accept" {
        rng.pick(&[
            (proto::Priority::Urgent, 10),
            (proto::Priority::Soon, 30),
            (proto::Priority::Routine, 60),
        ])
    } else {
        proto::Priority::Unspecified
    };
    let mut record = |at: DateTime<Utc>, code: &str, correction: bool| {
        let outcome = proto::Outcome {
            kind: outcome_kind(code).expect("an outcome code") as i32,
            priority: priority as i32,
            ..proto::Outcome::default()
        };
        push(
            at,
            Payload::VettingCompleted(proto::VettingCompleted {
                clinician: "clinician".into(),
                outcome: Some(outcome.clone()),
                rationale: "generated".into(),
                correction,
                ..Default::default()
            }),
        );
        push(
            at + chrono::Duration::seconds(1),
            Payload::DecisionRecorded(proto::DecisionRecorded {
                decision_id: Uuid::now_v7().to_string(),
                outcome: Some(outcome),
                clinician: "clinician".into(),
                decided_at: Some(proto::timestamp(at)),
                ..Default::default()
            }),
        );
    };
    record(vetted, code, false);
    let final_code = if rng.chance(2) {
        let corrected = if code == "self_management" {
            "physiotherapy"
        } else {
            "self_management"
        };
        record(vetted + days(1), corrected, true);
        corrected
    } else {
        code
    };
    let notified = vetted + chrono::Duration::minutes(5);
    for (recipient, channel) in [
        (proto::Recipient::Referrer, proto::Channel::Webhook),
        (proto::Recipient::Patient, proto::Channel::Sms),
    ] {
        if recipient == proto::Recipient::Patient && rng.chance(3) {
            push(
                notified,
                Payload::NotificationFailed(proto::NotificationFailed {
                    delivery_id: Uuid::now_v7().to_string(),
                    recipient: recipient as i32,
                    channel: channel as i32,
                    cause_event_id: String::new(),
                    reason: "the number is not in service".into(),
                    attempts: 5,
                }),
            );
        } else {
            push(
                notified,
                Payload::NotificationSent(proto::NotificationSent {
                    delivery_id: Uuid::now_v7().to_string(),
                    recipient: recipient as i32,
                    channel: channel as i32,
                    cause_event_id: String::new(),
                }),
            );
        }
    }
    if final_code == "patient_opt_in" {
        if rng.chance(60) {
            push(
                vetted + days(1 + rng.below(10) as i64),
                Payload::ReferralOptedIn(proto::ReferralOptedIn::default()),
            );
        } else {
            push(
                vetted + days(14),
                Payload::ReferralClosed(proto::ReferralClosed {
                    reason: "opt_in_window_passed".into(),
                }),
            );
        }
    }
    finish(id, board, events)
}

fn finish(id: Uuid, board: &'static str, events: Vec<Event>) -> Referral {
    Referral {
        id: id.to_string(),
        board,
        events,
    }
}
