use super::*;

fn parse(query: &str) -> Result<TaskSearch, Vec<Issue>> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    TaskSearch::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn named(issues: Vec<Issue>) -> Vec<String> {
    issues.into_iter().map(|i| i.expression).collect()
}

#[test]
fn a_poll_by_practice_and_date_is_understood() {
    let search = parse(
        "requester=https://pathway.scot.nhs.uk/fhir/Id/gp-practice-code|55123&_lastUpdated=ge2026-11-01&_count=5",
    )
    .expect("valid");
    assert_eq!(search.practice_code.as_deref(), Some("55123"));
    assert_eq!(search.count, 5);
    // A date is the Scottish day: 1 November is on GMT.
    assert_eq!(
        search.since.map(|t| t.to_rfc3339()),
        Some("2026-11-01T00:00:00+00:00".into())
    );
    let gt = parse("_lastUpdated=gt2026-07-01").expect("valid");
    assert_eq!(
        gt.since.map(|t| t.to_rfc3339()),
        Some("2026-07-01T23:00:00+00:00".into())
    );
}

#[test]
fn bad_parameters_are_named_every_one() {
    let cases = [
        ("_lastUpdated=2026-11-01", vec!["_lastUpdated"]),
        ("_lastUpdated=ge2026-13-01", vec!["_lastUpdated"]),
        ("_lastUpdated=eq2026-11-01", vec!["_lastUpdated"]),
        ("_lastUpdated=g%C3%A92026", vec!["_lastUpdated"]),
        ("_lastUpdated=%C3%A9", vec!["_lastUpdated"]),
        (
            "_lastUpdated=ge2026-11-01&_lastUpdated=gt2026-11-02",
            vec!["_lastUpdated"],
        ),
        ("_count=0", vec!["_count"]),
        ("_count=101", vec!["_count"]),
        ("_count=x&patient=1", vec!["_count", "patient"]),
        ("requester=http://other|55123", vec!["requester"]),
        ("requester=", vec!["requester"]),
        ("requester=1&requester=2", vec!["requester"]),
        ("_cursor=nonsense", vec!["_cursor"]),
    ];
    for (query, expected) in cases {
        let issues = parse(query).expect_err(query);
        assert_eq!(named(issues), expected, "{query}");
    }
}

#[test]
fn the_next_link_reads_back_as_the_same_search() {
    let search = parse("requester=55123&owner=highland&_lastUpdated=gt2026-11-01T09:00:00Z&_lastUpdated=lt2026-12-01&_count=2")
        .expect("valid");
    let cursor = Cursor {
        updated_at: chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456).expect("a time"),
        id: "0190d5a8-2f7e-7c1e-9a4b-1f2e3d4c5b6a".into(),
    };
    let again = parse(&search.next_query(&cursor)).expect("the link parses");
    assert_eq!(again.cursor.as_ref(), Some(&cursor));
    assert_eq!(
        TaskSearch {
            cursor: None,
            ..again
        },
        search
    );
}
