//! Unit tests of `aggregates.rs`.

use super::*;
use crate::domain::fact::Pause;

fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().expect("test data is valid")
}

fn vetted() -> Fact {
    let mut fact = Fact::new("r1", BoardCode::parse("highland").expect("a board"));
    fact.route = Some(Route::Remote);
    fact.received_at = Some(utc("2026-03-02T09:00:00Z"));
    fact.vetted_at = Some(utc("2026-03-09T09:00:00Z"));
    fact.outcome = Some("accept".into());
    fact.priority = Some("urgent".into());
    fact.pauses = vec![Pause {
        information_request_id: "q1".into(),
        requested_at: utc("2026-03-03T09:00:00Z"),
        answered_at: Some(utc("2026-03-05T09:00:00Z")),
    }];
    fact
}

#[test]
fn every_counter_reads_back_from_its_name() {
    let counters = [
        Counter::Fact,
        Counter::ReceivedRemote,
        Counter::ReceivedStandard,
        Counter::Vetted([5, 7, 2, 2]),
        Counter::WithinTarget,
        Counter::InfoRequested,
        Counter::NotificationFailed,
        Counter::Outcome("advice_to_referrer".into()),
        Counter::Answered(3),
        Counter::Withdrawn,
    ];
    for counter in counters {
        assert_eq!(Counter::parse(&counter.name()), Some(counter));
    }
    assert_eq!(Counter::parse("w:1:2"), None);
    assert_eq!(Counter::parse("x"), None);
}

#[test]
fn an_unchanged_fact_changes_no_counter() {
    let fact = vetted();
    assert!(difference(Some(&fact), &fact, &BoardContext::default()).is_empty());
}

#[test]
fn a_new_priority_moves_the_fact_between_groups_of_that_split_only() {
    let old = vetted();
    let mut new = old.clone();
    new.priority = Some("routine".into());
    let deltas = difference(Some(&old), &new, &BoardContext::default());
    assert!(!deltas.is_empty());
    assert!(deltas.keys().all(|k| k.dimension == "priority"));
    assert_eq!(deltas.values().sum::<i64>(), 0);
}
