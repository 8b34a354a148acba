//! Unit tests of `publication.rs`.

use super::*;

#[test]
fn a_quarter_is_a_calendar_quarter() {
    let q = Quarter::parse("2026-Q3").expect("a quarter");
    assert_eq!(q.label, "2026-Q3");
    assert_eq!(
        q.first,
        NaiveDate::from_ymd_opt(2026, 7, 1).expect("a date")
    );
    assert_eq!(
        q.last,
        NaiveDate::from_ymd_opt(2026, 9, 30).expect("a date")
    );
    let q4 = Quarter::parse("2025-Q4").expect("a quarter");
    assert_eq!(
        q4.last,
        NaiveDate::from_ymd_opt(2025, 12, 31).expect("a date")
    );
    assert!(q.is_over(NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date")));
    assert!(!q.is_over(q.last));
}

#[test]
fn anything_else_is_refused() {
    for bad in [
        "",
        "2026",
        "2026-Q0",
        "2026-Q5",
        "2026-q3",
        "2026-Q03",
        "26-Q3",
        "2026-07",
        "2026-W14",
        "2026-Q3 ",
        "+026-Q3",
        "2026-Q-1",
        "2026-07-01..2026-09-30",
    ] {
        assert!(Quarter::parse(bad).is_err(), "{bad:?}");
    }
}

fn tallies() -> Vec<BoardTally> {
    let mut tallies = vec![BoardTally::default(); BoardCode::all().count()];
    for (i, t) in tallies.iter_mut().enumerate() {
        let n = i as u64;
        t.seen_consultant_led = [10 + n, n % 4, 6, 0];
        t.seen_all_clinicians = [14 + n, n % 4 + 1, 6, 3];
        t.still_waiting = [20, 7 + n, n % 5, 9];
        t.received_remote = 30 + n;
        t.received_standard = n % 3;
        t.vetted = 25;
        t.outcomes[0] = 20;
        t.outcomes[4] = 5 - n % 3;
        t.outcomes[7] = n % 3;
    }
    tallies
}

#[test]
fn the_tables_are_laid_out_as_published_with_a_scotland_total() {
    let tables = publish(&tallies(), 5);
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "seen_consultant_led",
            "seen_all_clinicians",
            "still_waiting",
            "referrals"
        ]
    );
    for table in &tables {
        assert_eq!(table.rows.len(), 15);
        assert_eq!(table.rows[14].area, "scotland");
        assert_eq!(
            table.rows[0].area,
            BoardCode::all().next().map(|b| b.code()).unwrap_or("")
        );
        for row in &table.rows {
            assert_eq!(row.cells.len(), table.columns.len());
            for (column, cell) in table.columns.iter().zip(&row.cells) {
                assert_eq!(cell.is_none(), row.suppressed.contains(column));
                if let Some(n) = cell {
                    assert!(
                        *n == 0 || *n >= 5,
                        "{} {} {column} = {n}",
                        table.name,
                        row.area
                    );
                }
            }
        }
    }
    // Scotland's 0–12 weeks, consultant-led: 10 + 11 + … + 23.
    let scotland = &tables[0].rows[14];
    assert_eq!(scotland.cells[0], Some((10..24).sum()));
    assert_eq!(tables[3].columns[4], "accept");
}

#[test]
fn a_consultant_led_band_is_hidden_when_the_other_clinicians_in_it_are_few() {
    let mut tallies = vec![BoardTally::default(); BoardCode::all().count()];
    tallies[0].seen_consultant_led = [50, 0, 0, 0];
    tallies[0].seen_all_clinicians = [52, 0, 0, 0];
    let tables = publish(&tallies, 5);
    // 52 − 50 = 2 other clinicians: one of the pair, and what ties them, goes.
    let consultant = tables[0].rows[0].cells[0];
    let all = tables[1].rows[0].cells[0];
    assert!(
        consultant.is_none() || all.is_none(),
        "{consultant:?} {all:?}"
    );
}
