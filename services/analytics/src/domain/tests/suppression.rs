//! Unit tests of `suppression.rs`.

use proptest::prelude::*;

use super::*;

/// A table of `rows` × `columns` counts with a total column, a total row,
/// and the relations between them.
fn table(set: &mut TableSet, counts: &[Vec<u64>]) -> Vec<Vec<CellId>> {
    let columns = counts.first().map_or(0, Vec::len);
    let mut grid: Vec<Vec<CellId>> = counts
        .iter()
        .map(|row| {
            let mut cells: Vec<CellId> = row.iter().map(|n| set.cell(*n)).collect();
            cells.push(set.cell(row.iter().sum()));
            cells
        })
        .collect();
    let totals: Vec<CellId> = (0..=columns)
        .map(|c| {
            let sum = grid.iter().map(|row| set.value(row[c])).sum();
            set.cell(sum)
        })
        .collect();
    grid.push(totals);
    for row in &grid {
        set.relate(row);
    }
    for c in 0..=columns {
        let column: Vec<CellId> = grid.iter().map(|row| row[c]).collect();
        set.relate(&column);
    }
    grid
}

/// What a reader learns from the shown cells by solving, over and over,
/// every relation with one unknown: the cells they end up knowing.
fn peel(set: &TableSet, cells: usize) -> Vec<bool> {
    let mut known: Vec<bool> = (0..cells).map(|i| !set.is_hidden(CellId(i))).collect();
    loop {
        let mut changed = false;
        for relation in set.relations() {
            let unknown: Vec<&CellId> = relation.iter().filter(|c| !known[c.0]).collect();
            if let [one] = unknown.as_slice() {
                known[one.0] = true;
                changed = true;
            }
        }
        if !changed {
            return known;
        }
    }
}

#[test]
fn one_small_cell_takes_a_cell_in_its_row_and_its_column_with_it() {
    let mut set = TableSet::new();
    let grid = table(&mut set, &[vec![3, 20, 30], vec![40, 50, 60]]);
    set.suppress(5);
    assert!(set.is_hidden(grid[0][0]), "the small count");
    // Its row: the next smallest, 20; its column: 40; and the 2 × 2 block
    // closes on 50, so every row and column holds two hidden cells.
    assert!(set.is_hidden(grid[0][1]));
    assert!(set.is_hidden(grid[1][0]));
    assert!(set.is_hidden(grid[1][1]));
    assert!(set.relations_with_one_unknown().is_empty());
    let shown = grid
        .iter()
        .flatten()
        .filter(|c| !set.is_hidden(**c))
        .count();
    assert_eq!(shown, 12 - 4, "no more than needed");
}

#[test]
fn zeros_are_shown_and_taken_last() {
    let mut set = TableSet::new();
    let grid = table(&mut set, &[vec![0, 2, 9]]);
    set.suppress(5);
    assert_eq!(set.shown(grid[0][0]), Some(0));
    assert!(set.is_hidden(grid[0][1]));
    assert!(set.is_hidden(grid[0][2]), "9, not the zero");
}

#[test]
fn nothing_small_hides_nothing() {
    let mut set = TableSet::new();
    let grid = table(&mut set, &[vec![0, 5, 9], vec![6, 0, 7]]);
    set.suppress(5);
    assert!(grid.iter().flatten().all(|c| !set.is_hidden(*c)));
}

proptest! {
    /// Brute force over random tables, small counts common: every small
    /// count is hidden, no relation is left with one unknown, and solving
    /// relations one unknown at a time reveals no hidden cell.
    #[test]
    fn no_hidden_cell_can_be_worked_out(
        counts in prop::collection::vec(prop::collection::vec(0u64..12, 4), 1..6),
        pairs in any::<bool>(),
    ) {
        let mut set = TableSet::new();
        let consultant = table(&mut set, &counts);
        let mut every = consultant.clone();
        if pairs {
            // A second table of which the first is part, and the difference
            // between them: all = consultant + other, cell by cell.
            let others: Vec<Vec<u64>> = counts.iter().map(|r| r.iter().map(|n| n % 4).collect()).collect();
            let other = table(&mut set, &others);
            let all_counts: Vec<Vec<u64>> = counts
                .iter()
                .zip(&others)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + y).collect())
                .collect();
            let all = table(&mut set, &all_counts);
            for ((c, o), a) in consultant.iter().flatten().zip(other.iter().flatten()).zip(all.iter().flatten()) {
                set.relate(&[*c, *o, *a]);
            }
            every.extend(other);
            every.extend(all);
        }
        set.suppress(5);
        let cells: Vec<CellId> = every.into_iter().flatten().collect();
        for c in &cells {
            let n = set.value(*c);
            if n > 0 && n < 5 {
                prop_assert!(set.is_hidden(*c));
            }
        }
        prop_assert!(set.relations_with_one_unknown().is_empty());
        let known = peel(&set, cells.len());
        for c in &cells {
            prop_assert!(!set.is_hidden(*c) || !known[c.0], "a hidden cell was worked out");
        }
    }
}
