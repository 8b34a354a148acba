use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

/// A worker that fails its first `failures` starts, then runs until stopped.
fn flaky(
    failures: usize,
    starts: Arc<AtomicUsize>,
    stop: CancellationToken,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + 'static
{
    move || {
        let start = starts.fetch_add(1, Ordering::SeqCst);
        let stop = stop.clone();
        Box::pin(async move {
            match start {
                n if n < failures && n % 2 == 0 => anyhow::bail!("the consumer was deleted"),
                n if n < failures => panic!("a bug"),
                _ => {
                    stop.cancelled().await;
                    Ok(())
                }
            }
        })
    }
}

fn restarts(metrics: &Metrics, worker: &str) -> String {
    metrics
        .encode()
        .lines()
        .filter(|line| line.starts_with("pathway_worker_restarts_total{"))
        .filter(|line| line.contains(&format!("worker=\"{worker}\"")))
        .map(|line| line.rsplit(' ').next().unwrap_or_default().to_owned())
        .next()
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_fails_or_panics_is_down_until_restarted() {
    let workforce = Workforce::default();
    let metrics = Metrics::new("test");
    let stop = CancellationToken::new();
    let starts = Arc::new(AtomicUsize::new(0));
    let supervisor = tokio::spawn(supervise(
        "consumer test".into(),
        workforce.clone(),
        metrics.clone(),
        stop.clone(),
        flaky(2, starts.clone(), stop.clone()),
    ));

    // The first start fails at once: down, naming the worker and why.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let down = workforce.down();
    assert_eq!(down.len(), 1, "{down:?}");
    assert!(down[0].contains("consumer test"), "{down:?}");
    assert!(down[0].contains("the consumer was deleted"), "{down:?}");
    assert_eq!(starts.load(Ordering::SeqCst), 1);

    // Restarted after a back-off (1 s, and up to as much again of jitter);
    // the second start panics: down again.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    let down = workforce.down();
    assert!(down[0].contains("panicked"), "{down:?}");

    // The third start runs: nothing is down, two restarts were counted.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    assert!(workforce.down().is_empty(), "{:?}", workforce.down());
    assert_eq!(restarts(&metrics, "consumer test"), "2");

    // Shutdown: the worker ends and is not restarted.
    stop.cancel();
    supervisor.await.expect("the supervisor ends");
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    assert!(workforce.down().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_worker_down_at_shutdown_is_not_restarted() {
    let workforce = Workforce::default();
    let stop = CancellationToken::new();
    let starts = Arc::new(AtomicUsize::new(0));
    let supervisor = tokio::spawn(supervise(
        "relay".into(),
        workforce.clone(),
        Metrics::new("test"),
        stop.clone(),
        flaky(usize::MAX, starts.clone(), stop.clone()),
    ));
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(workforce.down().len(), 1);
    stop.cancel();
    supervisor.await.expect("the supervisor ends");
    assert_eq!(starts.load(Ordering::SeqCst), 1, "no start after shutdown");
}
