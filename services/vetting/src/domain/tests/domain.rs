//! Unit tests of `mod.rs`.

use super::*;

#[test]
fn red_flags_read_as_codes_and_words() {
    let code = red_flag_code(pathway_proto::v1::RedFlag::HistoryOfCancer);
    assert_eq!(code, "history_of_cancer");
    assert_eq!(in_words(&code), "History of cancer");
    assert_eq!(in_words(""), "");
}
