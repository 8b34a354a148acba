//! Unit tests of `dead_letters.rs`: the query's rules and an undecodable payload.

use super::*;
use crate::page::DEFAULT_LIMIT;

fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, Vec<FieldError>> {
    ListQuery::parse(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// A query's pairs and the fields its refusal names.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[test]
fn bad_values_name_every_field() {
    let cases: &[Case] = &[
        (&[("limit", "0")], &["limit"]),
        (&[("limit", "501")], &["limit"]),
        (&[("limit", "ten")], &["limit"]),
        (&[("before", "x")], &["before"]),
        (&[("consumer", "")], &["consumer"]),
        (&[("limit", "-1"), ("before", "x")], &["limit", "before"]),
    ];
    for (pairs, fields) in cases {
        let errors = query(pairs).err().expect("refused");
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(&named, fields, "{pairs:?}");
    }
}

#[test]
fn defaults_and_bounds() {
    assert_eq!(query(&[]).ok().map(|q| q.limit), Some(DEFAULT_LIMIT));
    assert_eq!(query(&[("limit", "500")]).ok().map(|q| q.limit), Some(500));
    assert_eq!(query(&[("limit", "1")]).ok().map(|q| q.limit), Some(1));
}

#[test]
fn an_undecodable_payload_shows_no_event() {
    let view = DeadLetterView::from(dead_letter::Model {
        id: "id".into(),
        consumer: "c".into(),
        message_id: "stream-seq-1".into(),
        subject: "s".into(),
        payload: vec![0xff, 0xff, 0xff],
        reason: "r".into(),
        deliveries: 1,
        dead_at: Utc::now(),
        replayed_at: None,
    });
    assert!(!view.decodes);
    assert_eq!(view.event_type, None);
}
