//! Unit tests of `csv.rs`: every cell written so a spreadsheet cannot run
//! it, checked against the `csv` crate's own reading and writing.

use pathway_common::csv_cell::{escape, escape_document, starts_formula};
use proptest::prelude::*;

use super::*;

fn written(lines: &[Vec<String>], escaped: bool) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for cells in lines {
        if escaped {
            write_cells(&mut writer, cells).expect("writes to memory");
        } else {
            writer.write_record(cells).expect("writes to memory");
        }
    }
    String::from_utf8(writer.into_inner().expect("flushes")).expect("UTF-8")
}

fn read(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV line").iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_label_that_could_start_a_formula_is_written_as_text() {
    let lines = vec![
        vec!["period".to_owned(), "group".to_owned()],
        vec![
            "2026-04".to_owned(),
            "=HYPERLINK(\"http://x\",\"y\")".to_owned(),
        ],
        vec!["2026-04".to_owned(), "-1+2,\r\n@A1".to_owned()],
        vec!["2026-04".to_owned(), "40-49".to_owned()],
    ];
    let back = read(&written(&lines, true));
    assert_eq!(back[1][1], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(back[2][1], "'-1+2,\r\n@A1");
    assert_eq!(back[3][1], "40-49");
}

fn cell() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[=+\\-@\t\r\n,\"' a-z0-9]{0,8}").expect("a valid pattern")
}

/// A document: one to four lines of the same one to four cells.
fn lines() -> impl Strategy<Value = Vec<Vec<String>>> {
    (1..5usize)
        .prop_flat_map(|width| prop::collection::vec(prop::collection::vec(cell(), width), 1..5))
}

proptest! {
    /// What the `csv` crate reads back is each cell escaped, never a
    /// formula; and escaping a document written without escaping gives the
    /// same bytes as escaping each cell, so the command line's pass over a
    /// service's CSV agrees with the service's writer.
    #[test]
    fn every_cell_comes_back_escaped(lines in lines()) {
        let safe = written(&lines, true);
        let back = read(&safe);
        let want: Vec<Vec<String>> = lines
            .iter()
            .map(|cells| cells.iter().map(|c| escape(c).into_owned()).collect())
            .collect();
        prop_assert_eq!(&back, &want);
        prop_assert!(back.iter().flatten().all(|c| !starts_formula(c)));
        let raw = written(&lines, false);
        prop_assert_eq!(escape_document(&raw), safe.as_str());
        prop_assert_eq!(escape_document(&safe), safe.as_str());
    }
}
