//! Unit tests of `inbox.rs`: the back-off of a fault that may heal.

use std::time::Duration;

use super::ConsumerSpec;

fn spec() -> ConsumerSpec {
    ConsumerSpec::new("test", vec!["pathway.v1.>".into()])
}

#[test]
fn the_backoff_doubles_from_200_ms_and_stops_at_the_cap() {
    let spec = spec();
    let ceilings: Vec<Duration> = (1..=12).map(|n| spec.backoff_ceiling(n)).collect();
    assert_eq!(ceilings[0], Duration::from_millis(200));
    assert_eq!(ceilings[1], Duration::from_millis(400));
    assert_eq!(ceilings[4], Duration::from_millis(3200));
    assert!(ceilings.windows(2).all(|w| w[0] <= w[1]), "{ceilings:?}");
    assert_eq!(ceilings[11], spec.max_backoff, "{ceilings:?}");
    // However often it failed: no overflow, no limit, the cap.
    for delivered in [0, 13, 64, 10_000, i64::MAX] {
        assert!(spec.backoff_ceiling(delivered) <= spec.max_backoff);
        assert!(spec.backoff_ceiling(delivered) >= spec.min_backoff);
    }
    assert_eq!(spec.backoff_ceiling(i64::MAX), spec.max_backoff);
}

#[test]
fn the_backoff_is_jittered_between_half_the_ceiling_and_all_of_it() {
    let spec = spec();
    for delivered in 1..40 {
        let ceiling = spec.backoff_ceiling(delivered);
        for _ in 0..20 {
            let delay = spec.backoff(delivered);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} of {ceiling:?}"
            );
        }
    }
}

#[test]
fn the_cap_is_configurable() {
    let spec = ConsumerSpec {
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        ..spec()
    };
    assert_eq!(spec.backoff_ceiling(1), Duration::from_millis(50));
    assert_eq!(spec.backoff_ceiling(30), Duration::from_secs(1));
}
