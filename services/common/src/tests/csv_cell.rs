//! Unit tests of `csv_cell.rs`.

use super::*;

#[test]
fn a_cell_that_could_start_a_formula_is_written_as_text() {
    let cases = [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
    ];
    for (cell, written) in cases {
        assert!(starts_formula(cell), "{cell:?}");
        assert_eq!(escape(cell), written, "{cell:?}");
    }
}

#[test]
fn a_safe_cell_is_written_as_it_is() {
    for cell in [
        "", "40-49", "85+", "2026-Q2", "*", "0.25", "'=1", " =1", "a=b", "unknown",
    ] {
        assert!(!starts_formula(cell), "{cell:?}");
        assert!(
            matches!(escape(cell), Cow::Borrowed(c) if c == cell),
            "{cell:?}"
        );
    }
}

#[test]
fn escaping_twice_changes_nothing() {
    for cell in ["=1", "-1", "@a", "\tx", "\ry", "plain"] {
        let once = escape(cell).into_owned();
        assert_eq!(escape(&once), once, "{cell:?}");
    }
}

#[test]
fn every_cell_of_a_document_is_escaped_quoted_or_not() {
    let cases = [
        ("a,b\n1,2\n", "a,b\n1,2\n"),
        ("=1,b\n", "'=1,b\n"),
        ("a,=1\r\n-2,@x", "a,'=1\r\n'-2,'@x"),
        ("a,\"=1,2\"\n", "a,\"'=1,2\"\n"),
        // A doubled quote inside a quoted cell does not end it.
        ("\"x\"\",=1\",+2\n", "\"x\"\",=1\",'+2\n"),
        // A cell starting with a tab (never quoted) or a carriage return (always quoted).
        ("a,\t=1\n", "a,'\t=1\n"),
        ("a,\"\r=1\"\n", "a,\"'\r=1\"\n"),
        // Empty cells and empty lines.
        (",,\n\n=,\n", ",,\n\n'=,\n"),
        // A carriage return that ends a line is not a cell.
        ("a,\r\nb\r", "a,\r\nb\r"),
        ("", ""),
    ];
    for (document, written) in cases {
        assert_eq!(escape_document(document), written, "{document:?}");
    }
}

#[test]
fn an_escaped_document_is_escaped_again_unchanged() {
    let document = "period,group\n2026-04,'=1\n2026-05,\"'-2,3\"\n";
    assert!(matches!(escape_document(document), Cow::Borrowed(_)));
}
