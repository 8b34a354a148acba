//! Unit tests of `replay.rs`: what may be replayed and under which message id.

use pathway_proto::v1::Event;
use prost::Message as _;

use super::{message_id, replayable};

#[test]
fn a_replay_has_a_message_id_of_its_own() {
    assert_eq!(message_id("0193-abc"), "replay-0193-abc");
}

#[test]
fn only_an_event_with_an_id_and_a_payload_is_replayable() {
    assert!(!replayable(&[0xff, 0xff, 0xff]));
    assert!(!replayable(&Event::default().encode_to_vec()));
    let no_payload = Event {
        event_id: "e1".into(),
        ..Event::default()
    };
    assert!(!replayable(&no_payload.encode_to_vec()));
}
