//! Unit tests of `baseline.rs`.

use super::*;

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board code")
}

#[test]
fn every_bad_row_is_named_by_line_and_column() {
    let file = "reference,received_on,vetted_on,outcome,priority\n\
                a1,2025-01-06,2025-01-08,accept,routine\n\
                a2,2025-02-30,,,\n\
                a1,2025-01-07,2025-01-05,physio,\n\
                a4,2025-01-07,,,soon\n";
    let problems = parse(highland(), file.as_bytes()).expect_err("bad rows");
    let found: Vec<(u64, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "received_on"),
            (4, "reference"),
            (4, "vetted_on"),
            (4, "outcome"),
            (5, "priority"),
        ]
    );
}

#[test]
fn a_good_file_gives_standard_route_facts() {
    let file = "received_on,reference,vetted_on,outcome,sex\n2025-01-06,x,2025-01-08,physiotherapy,female\n";
    let facts = parse(highland(), file.as_bytes()).expect("a good file");
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].referral_id, "baseline:highland:x");
    assert_eq!(facts[0].route, Some(Route::Standard));
    assert_eq!(facts[0].outcome.as_deref(), Some("physiotherapy"));
    assert_eq!(facts[0].attributes.sex, "female");
}
