//! End-to-end benchmark: the whole pathway at fixed offered loads.
//!
//! Every service runs in this process, each on a Tokio runtime of its own
//! with one worker thread (so the services do not share a scheduler with
//! the load generator), against one nats-server and SQLite files, then
//! PostgreSQL when one answers, then a three-node NATS cluster (stream on
//! three replicas, `sync_interval: always`) on PostgreSQL. Notification
//! sends to local stand-ins for GOV.UK Notify and the GP's webhook receiver.
//!
//! Referrals are posted open-loop at the offered rate, spread over 20
//! referring practices' tokens; an automated clinician polls the worklist
//! and claims and accepts each referral as soon as it shows, over the API.
//! Each accepted referral is decided, notified (an SMS to the patient, a
//! webhook to the GP) and counted in analytics. Once the POSTs are sent the
//! run drains until analytics counts every referral intake took, or a cap.
//!
//! Figures per (database, offered rate): the POST rate achieved, the
//! sustained end-to-end rate (referrals counted in analytics over the time
//! from the first POST to the last counted), p50/p99 of POST→decision
//! recorded and POST→first message at the far end, how many never arrived,
//! and the process's peak resident memory.
//!
//! `BENCH_RATES` (comma-separated referrals/s, default `50,100,200,400,600`),
//! `BENCH_SECONDS` (default 10), `BENCH_DRAIN` (the drain's cap in seconds,
//! default 120) and `BENCH_SETUPS` (any of `sqlite,postgres,cluster`, default
//! all three) size a run. `make bench` runs it; the figures go into the
//! README. Progress goes to stderr, the table to stdout.

mod load;
mod observe;

use std::sync::Arc;
use std::time::Duration;

use pathway_common::auth::Role;
use pathway_common::startup::Workers;
use pathway_tests::cluster::NatsCluster;
use pathway_tests::pathway::{Pathway, Prepared};
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use sea_orm::{Database, DatabaseConnection};
use tokio_util::sync::CancellationToken;

use load::Clients;

pub const BOARD: &str = "highland";

/// Referring practices and clinicians the load is spread over: each token
/// may send 200 requests a second.
const PRACTICES: usize = 20;
const CLINICIANS: usize = 20;

struct Size {
    rates: Vec<u64>,
    seconds: u64,
    drain: Duration,
    setups: Vec<String>,
}

impl Size {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let rates = var("BENCH_RATES")
            .map(|v| {
                v.split(',')
                    .filter_map(|r| r.trim().parse::<u64>().ok())
                    .filter(|r| *r > 0)
                    .collect()
            })
            .unwrap_or_else(|| vec![50, 100, 200, 400, 600]);
        let number = |name: &str, default: u64| {
            var(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
        };
        Self {
            rates,
            seconds: number("BENCH_SECONDS", 10).max(1),
            drain: Duration::from_secs(number("BENCH_DRAIN", 120)),
            setups: var("BENCH_SETUPS")
                .unwrap_or_else(|| "sqlite,postgres,cluster".into())
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect(),
        }
    }
}

/// Where the pathway runs.
enum Setup {
    /// One nats-server.
    Single(Backend),
    /// Three clustered nats-servers, the stream on all three.
    Cluster(Backend),
}

impl Setup {
    fn name(&self) -> String {
        match self {
            Setup::Single(Backend::Sqlite) => "SQLite".into(),
            Setup::Single(Backend::Postgres(_)) => "PostgreSQL".into(),
            Setup::Cluster(_) => "PostgreSQL, 3-node NATS".into(),
        }
    }
}

#[tokio::main]
async fn main() {
    let size = Size::from_env();
    let wanted = |name: &str| size.setups.iter().any(|s| s == name);
    let mut setups = Vec::new();
    for backend in backends().await {
        match backend {
            Backend::Sqlite if wanted("sqlite") => setups.push(Setup::Single(backend)),
            Backend::Postgres(_) => {
                if wanted("postgres") {
                    setups.push(Setup::Single(backend.clone()));
                }
                if wanted("cluster") {
                    setups.push(Setup::Cluster(backend));
                }
            }
            Backend::Sqlite => {}
        }
    }
    println!(
        "pathway: referrals posted at a fixed offered load for {} s each, vetted, decided, \
         notified and counted in analytics",
        size.seconds
    );
    println!();
    println!(
        "| database | offered | posted | end to end | decision p50 | decision p99 | \
         notified p50 | notified p99 | not arrived | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for setup in &setups {
        for &rate in &size.rates {
            run(setup, rate, &size).await;
        }
    }
}

async fn run(setup: &Setup, rate: u64, size: &Size) {
    eprintln!("{} at {rate}/s: starting the pathway", setup.name());
    let (backend, cluster) = match setup {
        Setup::Single(backend) => (backend, None),
        Setup::Cluster(backend) => (backend, Some(NatsCluster::start().await)),
    };
    let prepared = Prepared::on(backend, cluster.as_ref().map(|c| c.settings()), BOARD).await;
    let pathway = Pathway::start(&prepared, Workers::default()).await;
    let connect = |url: String| async move {
        Database::connect(url.as_str())
            .await
            .expect("the bench reads the service's database")
    };
    let decision: DatabaseConnection = connect(prepared.decision.database.url.clone()).await;
    let notification = connect(prepared.notification.database.url.clone()).await;
    let analytics = connect(prepared.analytics.database.url.clone()).await;
    let clients = Arc::new(Clients {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        intake: pathway.intake.base.clone(),
        vetting: pathway.vetting.base.clone(),
        referrers: (0..PRACTICES)
            .map(|n| prepared.token(&format!("practice-{n}"), Role::Referrer, BOARD, None))
            .collect(),
        clinicians: (0..CLINICIANS)
            .map(|n| {
                let name = format!("Dr Bench {n}");
                prepared.token(&format!("dr-bench-{n}"), Role::Clinician, BOARD, Some(name))
            })
            .collect(),
    });

    // Until the worklist answers, vetting does not know the board yet.
    let ready = pathway_tests::eventually(Duration::from_secs(60), || async {
        clients.worklist_answers().await.then_some(())
    })
    .await;
    assert!(ready.is_some(), "vetting's worklist answers within 60 s");
    let stop = CancellationToken::new();
    let clinician = load::clinician(clients.clone(), stop.clone());

    // One referral through the whole pathway first: every consumer is
    // running and every connection open before the clock starts.
    assert!(
        clients
            .refer(&clients.referrers[0], &valid_referral(BOARD))
            .await
            .is_some(),
        "intake takes the first referral"
    );
    let (warm, _) = observe::drain(&analytics, 1, Duration::from_secs(60)).await;
    assert_eq!(warm, 1, "the first referral is counted within 60 s");

    observe::reset_peak_rss();
    eprintln!("{} at {rate}/s: offering", setup.name());
    let offered = load::offer(&clients, rate, size.seconds).await;
    let expected = warm + offered.posted.len() as u64;
    eprintln!(
        "{} at {rate}/s: {} posted ({} refused), draining",
        setup.name(),
        offered.posted.len(),
        offered.errors
    );
    let (counted, last) = observe::drain(&analytics, expected, size.drain).await;
    let counted = counted - warm;
    stop.cancel();
    let _ = clinician.await;
    let peak = observe::peak_rss_mib();
    let span = last.duration_since(offered.first).as_secs_f64().max(1e-3);
    let latencies = observe::latencies(
        &offered.posted,
        &decision,
        &notification,
        &prepared.gateway,
        &prepared.receiver,
    )
    .await;
    let not_arrived = offered.posted.len() as u64 - counted.min(offered.posted.len() as u64);
    let ms = |h: &hdrhistogram::Histogram<u64>, q: f64| {
        if h.is_empty() {
            "-".to_owned()
        } else {
            format_ms(h.value_at_quantile(q) as f64 / 1000.0)
        }
    };
    println!(
        "| {} | {rate}/s | {:.0}/s | {:.0}/s | {} | {} | {} | {} | {}{} | {} |",
        setup.name(),
        offered.rate,
        counted as f64 / span,
        ms(&latencies.decided, 0.50),
        ms(&latencies.decided, 0.99),
        ms(&latencies.notified, 0.50),
        ms(&latencies.notified, 0.99),
        not_arrived,
        if offered.errors > 0 {
            format!(" ({} POSTs refused)", offered.errors)
        } else {
            String::new()
        },
        peak.map(|m| format!("{m:.0} MiB"))
            .unwrap_or_else(|| "-".into()),
    );
    drop(pathway);
    for db in [decision, notification, analytics] {
        db.close().await.ok();
    }
    drop(prepared);
    drop(cluster);
}

/// Milliseconds as the README writes them: 3 significant figures, in
/// seconds from 1 s.
fn format_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}
