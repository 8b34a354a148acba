use super::*;

fn snapshot(stream_sequence: u64) -> Covering {
    Covering {
        id: "0193-snapshot".into(),
        stream_sequence,
        taken: "28 November 2026 02:00".into(),
    }
}

#[test]
fn given_no_snapshot_and_a_whole_stream_when_planned_then_it_starts_at_the_first_message() {
    for held in [Held { first: 0, last: 0 }, Held { first: 1, last: 40 }] {
        assert_eq!(
            plan(None, held, false),
            Ok(Plan {
                snapshot: None,
                start_sequence: 1
            })
        );
    }
}

#[test]
fn given_a_snapshot_when_planned_then_it_is_restored_and_the_stream_read_after_it() {
    for held in [
        Held { first: 1, last: 40 },
        Held {
            first: 31,
            last: 40,
        },
        // Every message aged out, none since the snapshot.
        Held {
            first: 31,
            last: 30,
        },
    ] {
        assert_eq!(
            plan(Some(snapshot(30)), held, false),
            Ok(Plan {
                snapshot: Some(snapshot(30)),
                start_sequence: 31
            }),
            "{held:?}"
        );
    }
}

#[test]
fn given_aged_out_messages_no_snapshot_covers_when_planned_then_it_refuses_naming_them() {
    let refused = plan(
        None,
        Held {
            first: 12,
            last: 40,
        },
        false,
    )
    .expect_err("refused");
    assert_eq!(
        refused,
        Refusal::AgedOut {
            needed: 1,
            first: 12,
            snapshot: None
        }
    );
    let said = refused.to_string();
    assert!(said.contains("messages 1 to 11"), "{said}");
    assert!(said.contains("no snapshot"), "{said}");
    assert!(said.contains("--from-start"), "{said}");

    let refused = plan(
        Some(snapshot(30)),
        Held {
            first: 35,
            last: 40,
        },
        false,
    )
    .expect_err("refused");
    let said = refused.to_string();
    assert!(said.contains("messages 31 to 34"), "{said}");
    assert!(said.contains("holds only up to message 30"), "{said}");
}

#[test]
fn given_a_snapshot_past_the_stream_when_planned_then_it_refuses() {
    let refused =
        plan(Some(snapshot(30)), Held { first: 1, last: 12 }, false).expect_err("refused");
    assert!(matches!(refused, Refusal::StreamBehind { last: 12, .. }));
    assert!(refused.to_string().contains("made anew"), "{refused}");
}

#[test]
fn given_from_start_when_planned_then_it_reads_what_the_stream_holds_without_a_snapshot() {
    for latest in [None, Some(snapshot(30))] {
        assert_eq!(
            plan(
                latest,
                Held {
                    first: 35,
                    last: 40
                },
                true
            ),
            Ok(Plan {
                snapshot: None,
                start_sequence: 1
            })
        );
    }
}
