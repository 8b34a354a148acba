//! Intake benchmark: referrals per second and latency at a fixed offered
//! load, against a real nats-server and a real SQLite file (and PostgreSQL
//! when one answers), with the outbox relay publishing as it goes.
//!
//! `make bench` runs it; the figures go into the README.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use pathway_common::auth::Role;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};

const SECONDS: u64 = 10;
const RATES: [u64; 3] = [100, 400, 800];
/// How many referrers' tokens the load comes from.
const PRACTICES: usize = 20;

#[tokio::main]
async fn main() {
    println!("intake: POST /v1/referrals at a fixed offered load for {SECONDS} s each");
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "database", "offered", "completed", "achieved", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for backend in backends().await {
        for rate in RATES {
            run(&backend, rate).await;
        }
    }
}

async fn run(backend: &Backend, rate: u64) {
    let app = TestApp::spawn(backend).await;
    app.enable_board("highland").await;
    // Referrals come from many practices, each with its own token (and its
    // own allowance of requests a second).
    let tokens: Vec<String> = (0..PRACTICES)
        .map(|n| app.token_for(&format!("practice-{n}"), Role::Referrer, &["highland"]))
        .collect();
    let total = rate * SECONDS;
    let bodies: Vec<_> = (0..total).map(|_| valid_referral("highland")).collect();
    let mut interval = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (n, body) in bodies.into_iter().enumerate() {
        interval.tick().await;
        let http = app.http.clone();
        let url = format!("{}/v1/referrals", app.base);
        let token = tokens[n % tokens.len()].clone();
        tasks.spawn(async move {
            let sent = Instant::now();
            let ok = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16() == 201)
                .unwrap_or(false);
            (sent.elapsed(), ok)
        });
    }
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    let mut errors = 0u64;
    while let Some(result) = tasks.join_next().await {
        let (latency, ok) = result.expect("request task");
        if ok {
            histogram
                .record(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX))
                .expect("record");
        } else {
            errors += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Every referral's event must reach the stream too.
    let expected = total + 1 - errors;
    let published = pathway_tests::eventually(Duration::from_secs(60), || async {
        let count = app.stream_count().await;
        (count >= expected).then_some(count)
    })
    .await;
    let drained = started.elapsed().as_secs_f64();
    assert!(
        published.is_some(),
        "only {} of {expected} events reached the stream",
        app.stream_count().await
    );
    println!(
        "{:<10} {:>6}/s {:>10} {:>8.0}/s {:>9.1} {:>9.1} {:>9.1} {:>8}",
        backend.name(),
        rate,
        histogram.len(),
        histogram.len() as f64 / elapsed,
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
        errors
    );
    println!(
        "{:<10} all {expected} events on the stream {:.1} s after the first request",
        "", drained
    );
}
