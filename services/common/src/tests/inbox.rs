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

#[test]
fn a_consumer_reads_its_own_replays_and_a_replay_keeps_its_subject() {
    use pathway_proto::stream::{original_subject, replay_subject};

    use super::{consumer_filters, covers};

    let decision = consumer_filters("decision", vec!["pathway.v1.*.vetting.completed".into()]);
    assert_eq!(
        decision,
        [
            "pathway.v1.*.vetting.completed",
            "pathway.v1.replay.for.decision.>"
        ]
    );
    // A consumer of everything already takes its replays in: JetStream
    // refuses overlapping filters.
    assert_eq!(
        consumer_filters("analytics", vec!["pathway.v1.>".into()]),
        ["pathway.v1.>"]
    );
    let original = "pathway.v1.highland.vetting.completed";
    let replay = replay_subject("decision", original);
    assert_eq!(
        replay,
        "pathway.v1.replay.for.decision.highland.vetting.completed"
    );
    assert_eq!(original_subject(&replay), original);
    assert_eq!(original_subject(original), original);
    assert!(decision.iter().any(|f| covers(f, &replay)));
    // Filters on an aggregate or an event never match a replay, even when
    // the consumer is named after an aggregate.
    for filter in [
        "pathway.v1.*.decision.>",
        "pathway.v1.*.vetting.>",
        "pathway.v1.*.referral.>",
        "pathway.v1.*.board.settings_changed",
    ] {
        for consumer in ["decision", "notification", "vetting-worklist"] {
            let replay = replay_subject(consumer, "pathway.v1.highland.decision.recorded");
            assert!(!covers(filter, &replay), "{filter} matches {replay}");
        }
    }
    assert!(covers("pathway.v1.*.vetting.>", original));
    assert!(!covers(
        "pathway.v1.*.vetting.>",
        "pathway.v1.highland.vetting"
    ));
    assert!(covers("pathway.v1.>", "pathway.v1.replay.for.x.>"));
    assert!(!covers("pathway.v1.*.>", "pathway.v1.>"));
}
