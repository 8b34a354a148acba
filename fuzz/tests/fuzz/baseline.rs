//! The analytics baseline CSV: generated files, mostly valid, with a cell
//! or a character damaged now and then, and any bytes at all. Parsing never
//! panics; a refusal names the line and the column; an accepted file gives
//! one fact per row that keeps the import's rules, and the facts written
//! back as a file read as the same facts.

use std::collections::BTreeSet;

use bolero::check;
use chrono::NaiveDate;
use pathway_analytics::domain::baseline::{self, PREFIX};
use pathway_analytics::domain::fact::{Fact, Route};
use pathway_fuzz::Draw;
use pathway_proto::board::{BOARD_CODES, OUTCOME_CODES};
use pathway_proto::{BoardCode, days};

const COLUMNS: [&str; 10] = [
    "reference",
    "received_on",
    "vetted_on",
    "outcome",
    "priority",
    "withdrawn_on",
    "age_band",
    "sex",
    "urban_rural_class",
    "simd_quintile",
];

fn day(draw: &mut Draw, from: NaiveDate) -> NaiveDate {
    from + chrono::Days::new(u64::try_from(draw.below(400)).unwrap_or(0))
}

/// A cell for `column` in a row received on `received`: mostly valid.
fn cell(draw: &mut Draw, column: &str, row: usize, received: NaiveDate) -> String {
    let valid = match column {
        "reference" => format!("{}{row}", draw.pick(&["R-", "ref ", "", "=R"])),
        "received_on" => received.to_string(),
        "vetted_on" | "withdrawn_on" => match draw.below(3) {
            0 => String::new(),
            _ => day(draw, received).to_string(),
        },
        "outcome" => draw.pick(&OUTCOME_CODES).into(),
        "priority" => draw.pick(&["", "urgent", "soon", "routine"]).into(),
        "age_band" => draw.pick(&["40-49", "unknown", "", "90+"]).into(),
        "sex" => draw
            .pick(&["male", "female", "not_known", "unspecified", ""])
            .into(),
        "urban_rural_class" => draw.range(0, 7).to_string(),
        "simd_quintile" => draw.range(0, 6).to_string(),
        _ => draw.text(4),
    };
    match draw.below(24) {
        21 => draw.text(6),
        22 => draw.mangle(&valid),
        23 => format!(" {valid} "),
        _ => valid,
    }
}

fn file(draw: &mut Draw) -> Vec<u8> {
    let mut columns: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|_| !draw.chance(48))
        .collect();
    for required in ["received_on", "reference"] {
        if !columns.contains(&required) && !draw.chance(16) {
            columns.insert(0, required);
        }
    }
    if draw.chance(8) {
        columns.push("comment");
    }
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    writer.write_record(&columns).expect("a header writes");
    for row in 0..draw.below(8) {
        let received = day(draw, NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date"));
        let mut cells: Vec<String> = columns
            .iter()
            .map(|c| cell(draw, c, row, received))
            .collect();
        if draw.chance(4) {
            cells.pop();
        }
        writer.write_record(&cells).expect("a row writes");
    }
    let bytes = writer.into_inner().expect("the file is in memory");
    if draw.chance(16) {
        draw.mangle(&String::from_utf8_lossy(&bytes)).into_bytes()
    } else {
        bytes
    }
}

/// The facts of an accepted file written back as a baseline file.
fn file_of(board: BoardCode, facts: &[Fact]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).expect("a header writes");
    let date = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| days::day_of(at).to_string())
            .unwrap_or_default()
    };
    let prefix = format!("{PREFIX}{board}:");
    for fact in facts {
        let a = &fact.attributes;
        writer
            .write_record([
                fact.referral_id
                    .strip_prefix(&prefix)
                    .expect("the id has the prefix")
                    .to_owned(),
                date(fact.received_at),
                date(fact.vetted_at),
                fact.outcome.clone().unwrap_or_default(),
                fact.priority.clone().unwrap_or_default(),
                date(fact.withdrawn_at),
                a.age_band.clone(),
                a.sex.clone(),
                a.urban_rural_class.to_string(),
                a.simd_quintile.to_string(),
            ])
            .expect("a row writes");
    }
    writer.into_inner().expect("the file is in memory")
}

fn check_file(board: BoardCode, bytes: &[u8]) -> bool {
    match baseline::parse(board, bytes) {
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a reason");
            for problem in &problems {
                assert!(!problem.reason.trim().is_empty(), "{problem:?}");
            }
            false
        }
        Ok(facts) => {
            let rows = csv::Reader::from_reader(bytes).records().count();
            assert_eq!(facts.len(), rows, "one fact per row");
            let ids: BTreeSet<&str> = facts.iter().map(|f| f.referral_id.as_str()).collect();
            assert_eq!(ids.len(), facts.len(), "references are unique");
            let prefix = format!("{PREFIX}{board}:");
            for fact in &facts {
                let reference = fact
                    .referral_id
                    .strip_prefix(&prefix)
                    .expect("the id has the prefix");
                assert!(
                    !reference.is_empty() && reference.len() <= 64 && reference.trim() == reference
                );
                assert!(!reference.starts_with(['=', '+', '-', '@', '\t', '\r']));
                assert_eq!(fact.board, board);
                assert_eq!(fact.route, Some(Route::Standard));
                let received = fact.received_at.expect("received");
                assert!(fact.vetted_at.is_none_or(|v| v >= received));
                assert!(fact.withdrawn_at.is_none_or(|w| w >= received));
                assert_eq!(fact.decided_at, fact.vetted_at);
                assert_eq!(fact.outcome.is_some(), fact.vetted_at.is_some());
                assert!(
                    fact.outcome
                        .as_deref()
                        .is_none_or(|o| OUTCOME_CODES.contains(&o))
                );
                if let Some(priority) = &fact.priority {
                    assert_eq!(fact.outcome.as_deref(), Some("accept"));
                    assert!(["urgent", "soon", "routine"].contains(&priority.as_str()));
                }
                let a = &fact.attributes;
                assert!(["male", "female", "not_known", "unspecified"].contains(&a.sex.as_str()));
                assert!(a.urban_rural_class <= 6 && a.simd_quintile <= 5);
                assert!(!a.age_band.is_empty() && a.age_band.len() <= 16);
            }
            let again = baseline::parse(board, &file_of(board, &facts));
            assert_eq!(
                again.as_ref(),
                Ok(&facts),
                "the facts written back read the same"
            );
            true
        }
    }
}

fn board(draw: &mut Draw) -> BoardCode {
    BoardCode::parse(draw.pick(&BOARD_CODES)).expect("a board code")
}

#[test]
fn accepted_baseline_files_keep_the_rules_and_round_trip() {
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    check!().with_iterations(5_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let board = board(&mut draw);
        let file = file(&mut draw);
        if check_file(board, &file) {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(accepted.into_inner() > 0, "no generated file was accepted");
}

#[test]
fn any_bytes_as_a_baseline_file_never_panic() {
    check!().with_iterations(10_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let board = board(&mut draw);
        check_file(board, bytes);
    });
}
