//! Unit tests of `worklist_view.rs`: the worklist's order and its cursor.

use std::cmp::Reverse;

use chrono::DateTime;

use super::{OrderKey, WorklistCursor};

fn key(red_flags: bool, waited: u32, received: i64, id: &str) -> OrderKey {
    OrderKey {
        no_red_flags: !red_flags,
        longest_wait: Reverse(waited),
        received_at: DateTime::from_timestamp(received, 0).expect("a time"),
        referral_id: id.to_owned(),
    }
}

#[test]
fn red_flags_first_then_the_longest_wait_then_the_oldest_then_the_id() {
    let mut keys = [
        key(false, 9, 1, "a"),
        key(true, 0, 5, "b"),
        key(false, 2, 1, "c"),
        key(false, 2, 0, "e"),
        key(false, 2, 0, "d"),
        key(true, 3, 9, "f"),
    ];
    keys.sort();
    let order: Vec<&str> = keys.iter().map(|k| k.referral_id.as_str()).collect();
    assert_eq!(order, ["f", "b", "a", "d", "e", "c"]);
}

#[test]
fn a_cursor_reads_back_exactly_what_it_was_made_of() {
    let id = uuid::Uuid::now_v7().to_string();
    for red_flags in [true, false] {
        let mut place = key(red_flags, 17, 1_750_000_000, &id);
        place.received_at = DateTime::from_timestamp(1_750_000_000, 123_456_789).expect("a time");
        let cursor = WorklistCursor {
            as_of: DateTime::from_timestamp(1_760_000_000, 0).expect("a time"),
            key: place,
        };
        assert_eq!(WorklistCursor::decode(&cursor.encode()), Some(cursor));
    }
}

#[test]
fn anything_else_is_not_a_cursor() {
    let id = uuid::Uuid::now_v7();
    for bad in [
        String::new(),
        "yesterday".into(),
        format!("1.2.3.4.5.{id}"),
        format!("1.1.-3.4.5.{id}"),
        format!("1.1.3.4.5000000000.{id}"),
        "1.1.3.4.5.not-an-id".into(),
        format!("1.1.3.4.{id}"),
    ] {
        assert_eq!(WorklistCursor::decode(&bad), None, "{bad:?}");
    }
}
