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
//! stderr, the figures to stdout. `BENCH_ANALYTICS=ingest` runs the ingest
//! part alone, `BENCH_ANALYTICS=query` the query part alone (with the time
//! to work the metrics' counters out from the facts seeded);
//! `BENCH_ANALYTICS_FACTS=100000` times the queries at 100 000 facts only.

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
mod history;
mod seed;

use history::*;
use seed::*;

const INGEST_REFERRALS: u64 = 20_000;
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
         time until every event is handled and acknowledged; then, the service stopped, \
         `analytics rebuild --from-start` over the same stream"
    );
    println!(
        "{:<10} {:<8} {:>10} {:>8} {:>9} {:>10} {:>12}",
        "database", "run", "referrals", "events", "seconds", "events/s", "referrals/s"
    );
    let part = std::env::var("BENCH_ANALYTICS").unwrap_or_default();
    if part != "query" {
        for backend in &backends {
            ingest(backend).await;
        }
    }
    if std::env::var("BENCH_ANALYTICS").is_ok_and(|part| part == "ingest") {
        return;
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
        // Queries back to back measure the query, not the requests-per-token limit.
        http: HttpSettings {
            rate_limit_per_second: 0,
            ..HttpSettings::with_port(0)
        },
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
    let (mut service, application) =
        Service::build(settings.clone(), dir, Workers::default()).await;

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
    print_rate(backend, "ingest", total, seconds);
    service.stop().await;

    // The offline rebuild, as `analytics rebuild --from-start` runs it.
    eprintln!("{}: rebuilding from the stream", backend.name());
    let started = Instant::now();
    let mut last_report = Instant::now();
    let done = pathway_analytics::startup::rebuild(&settings, true, |progress| {
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "{}: rebuild has handled {} events, {} to go",
                backend.name(),
                progress.handled,
                progress.remaining
            );
            last_report = Instant::now();
        }
    })
    .await
    .expect("the rebuild replays the stream");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        done.remaining, 0,
        "the rebuild should read the whole stream"
    );
    let db = pathway_common::db::connect(&settings.database)
        .await
        .expect("the database after the rebuild");
    let facts = fact::Entity::find()
        .count(&db)
        .await
        .expect("count the facts");
    assert_eq!(
        facts, INGEST_REFERRALS,
        "every referral should have its fact again after the rebuild"
    );
    db.close().await.ok();
    print_rate(backend, "rebuild", total, seconds);
}

/// One line of the ingest table.
fn print_rate(backend: &Backend, run: &str, events: u64, seconds: f64) {
    println!(
        "{:<10} {:<8} {:>10} {:>8} {:>9.1} {:>10.0} {:>12.0}",
        backend.name(),
        run,
        INGEST_REFERRALS,
        events,
        seconds,
        events as f64 / seconds,
        INGEST_REFERRALS as f64 / seconds
    );
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
    for size in query_sizes() {
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
        count_facts(backend, &service.db, size).await;
        for (name, path) in QUERIES {
            time_query(backend, &http, &service.base, &token, size, name, path).await;
        }
    }
    service.stop().await;
}

/// The fact table sizes to time the queries at: [`QUERY_SIZES`], or those
/// of them up to `BENCH_ANALYTICS_FACTS` (e.g. `100000` for a quicker run).
fn query_sizes() -> Vec<u64> {
    let most = std::env::var("BENCH_ANALYTICS_FACTS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    QUERY_SIZES.into_iter().filter(|n| *n <= most).collect()
}

/// The metrics' counters worked out from the facts seeded, in one
/// transaction, as a rebuild or the migration that made them does.
async fn count_facts(backend: &Backend, db: &DatabaseConnection, facts: u64) {
    let started = Instant::now();
    let txn = db.begin().await.expect("begin");
    pathway_analytics::store::aggregates::recompute_all(&txn)
        .await
        .expect("the counters are worked out");
    txn.commit().await.expect("commit");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: counters from {facts} facts in {seconds:.1} s ({:.0} facts/s)",
        backend.name(),
        facts as f64 / seconds
    );
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
