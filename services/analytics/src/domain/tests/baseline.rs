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

#[test]
fn a_cell_that_could_start_a_formula_is_refused_in_every_column() {
    let head = "reference,received_on,vetted_on,outcome,priority,withdrawn_on,age_band,sex,urban_rural_class,simd_quintile\n";
    let good = [
        "r",
        "2025-01-06",
        "2025-01-08",
        "accept",
        "",
        "",
        "40-49",
        "female",
        "1",
        "2",
    ];
    let columns: Vec<&str> = head.trim_end().split(',').collect();
    let starts = [
        "=1+1", "+3", "-1", "@SUM(A1)", "\"\t40\"", "\"\r40\"", " =1", "\"\n@x\"",
    ];
    for (i, column) in columns.iter().enumerate() {
        for start in starts {
            let mut cells = good.map(str::to_owned);
            cells[i] = start.to_owned();
            let file = format!("{head}{}\n", cells.join(","));
            let problems = parse(highland(), file.as_bytes()).expect_err(&file);
            assert_eq!(problems.len(), 1, "{file}: {problems:?}");
            assert_eq!(
                (problems[0].line, problems[0].column.as_str()),
                (2, *column),
                "{file}"
            );
            assert!(
                problems[0].reason.contains("could run as a formula"),
                "{file}: {problems:?}"
            );
        }
    }
}

#[test]
fn age_bands_and_references_that_do_not_start_a_formula_load() {
    let file =
        "reference,received_on,age_band\nH-001,2025-01-06,85+\n\"  x-1\",2025-01-06,\" 40-49\"\n";
    let facts = parse(highland(), file.as_bytes()).expect("a good file");
    assert_eq!(facts[0].attributes.age_band, "85+");
    assert_eq!(facts[1].referral_id, "baseline:highland:x-1");
    assert_eq!(facts[1].attributes.age_band, "40-49");
}
