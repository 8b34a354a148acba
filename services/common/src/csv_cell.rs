//! CSV cells a spreadsheet will not run as formulas (OWASP, "CSV
//! injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is written with a single quote in front, which a
//! spreadsheet shows as text and never evaluates.
//!
//! Every CSV Pathway writes goes through [`escape`], cell by cell, header
//! included; CSV that Pathway passes on from elsewhere (the command line
//! printing a service's CSV) goes through [`escape_document`], which finds
//! each cell and applies the same rule, so an older service's file is made
//! safe too. Both leave a cell that is already safe as it is, so escaping
//! twice changes nothing.
//!
//! Pathway's CSV holds no negative numbers (counts, days and shares), so no
//! number is turned into text by the rule.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula when
/// they come first (tab and carriage return because some spreadsheets skip
/// them before one).
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a spreadsheet could read `cell` as a formula.
pub fn starts_formula(cell: &str) -> bool {
    cell.starts_with(FORMULA_STARTS)
}

/// `cell` as a CSV writer should write it: after a single quote when a
/// spreadsheet could read it as a formula, as it is otherwise.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if starts_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Every cell of the CSV `text` (comma-separated, `"`-quoted, lines ended
/// by `\n` or `\r\n`) as [`escape`] would have written it: the quote goes
/// inside a quoted cell, before its first character.
pub fn escape_document(text: &str) -> Cow<'_, str> {
    let starts = formula_cells(text);
    if starts.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + starts.len());
    let mut copied = 0;
    for at in starts {
        out.push_str(&text[copied..at]);
        out.push('\'');
        copied = at;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The byte offsets of the first character of each cell of `text` that
/// starts a formula.
fn formula_cells(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // `i` is the start of a cell: after a delimiter, so on a character
        // boundary. An unquoted carriage return there ends the line (a CSV
        // writer quotes a cell that holds one).
        let quoted = bytes[i] == b'"';
        let content = if quoted { i + 1 } else { i };
        if (quoted || bytes[i] != b'\r') && starts_formula(&text[content..]) {
            found.push(content);
        }
        if quoted {
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        }
        while i < bytes.len() && !matches!(bytes[i], b',' | b'\r' | b'\n') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            Some(_) => i += 1,
            None => {}
        }
    }
    found
}

#[cfg(test)]
#[path = "tests/csv_cell.rs"]
mod tests;
