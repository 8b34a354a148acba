use super::*;

#[test]
fn a_limit_is_a_whole_number_from_one_to_the_most_a_page_holds() {
    assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
    assert_eq!(limit(Some("1")).ok(), Some(1));
    assert_eq!(limit(Some(" 500 ")).ok(), Some(MAX_LIMIT));
    for bad in ["0", "501", "-1", "ten", "", "1.5"] {
        let error = limit(Some(bad)).expect_err(bad);
        assert_eq!(error.field, "limit", "{bad}");
        assert!(
            error.reason.contains("from 1 to 500"),
            "{bad}: {}",
            error.reason
        );
    }
}
