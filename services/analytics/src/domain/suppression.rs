//! Secondary suppression across a whole set of tables, after Public Health
//! Scotland's statistical disclosure control for fixed publications.
//!
//! The tables are cells tied by linear relations: a row's total is the sum
//! of its parts, the Scotland row is the sum of the board rows, a table of
//! all clinicians is consultant-led plus other clinicians. A reader who
//! knows every cell of a relation but one knows that one too. So:
//!
//! 1. **primary**: every small count (1 to `threshold - 1`) is hidden;
//! 2. **secondary**: while some relation has exactly one hidden cell, the
//!    smallest non-zero cell still shown in it (else the smallest zero) is
//!    hidden as well; repeated until no relation has exactly one.
//!
//! Each pass hides at least one more cell, so it stops. When it stops, no
//! relation has exactly one unknown, and a reader who solves relations one
//! unknown at a time, from the published cells, learns no hidden cell.
//!
//! A cell may be *derived* (published nowhere but known to a reader from
//! others, e.g. other clinicians = all − consultant-led). It takes part as
//! known until it is hidden; hiding it forces, through its own relation,
//! another published cell to be hidden too.

/// Cells and the relations between them; which cells are hidden.
#[derive(Debug, Clone, Default)]
pub struct TableSet {
    values: Vec<u64>,
    hidden: Vec<bool>,
    relations: Vec<Vec<usize>>,
}

/// A cell of a [`TableSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellId(usize);

impl TableSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new cell holding `value`.
    pub fn cell(&mut self, value: u64) -> CellId {
        self.values.push(value);
        self.hidden.push(false);
        CellId(self.values.len() - 1)
    }

    /// A linear relation among `cells` (for instance a total and its parts):
    /// knowing all but one of them gives the last.
    pub fn relate(&mut self, cells: &[CellId]) {
        let mut cells: Vec<usize> = cells.iter().map(|c| c.0).collect();
        cells.sort_unstable();
        cells.dedup();
        if cells.len() > 1 {
            self.relations.push(cells);
        }
    }

    pub fn value(&self, cell: CellId) -> u64 {
        self.values.get(cell.0).copied().unwrap_or(0)
    }

    pub fn is_hidden(&self, cell: CellId) -> bool {
        self.hidden.get(cell.0).copied().unwrap_or(false)
    }

    /// The cell's value, unless it is hidden.
    pub fn shown(&self, cell: CellId) -> Option<u64> {
        (!self.is_hidden(cell)).then(|| self.value(cell))
    }

    /// The relations, each a list of its cells.
    pub fn relations(&self) -> impl Iterator<Item = Vec<CellId>> + '_ {
        self.relations
            .iter()
            .map(|cells| cells.iter().copied().map(CellId).collect())
    }

    /// Hide every small count, then enough other cells that no relation
    /// has exactly one hidden cell.
    pub fn suppress(&mut self, threshold: u64) {
        for (hidden, value) in self.hidden.iter_mut().zip(&self.values) {
            if *value > 0 && *value < threshold {
                *hidden = true;
            }
        }
        loop {
            let mut changed = false;
            for relation in &self.relations {
                let hidden = relation.iter().filter(|&&i| self.hidden[i]).count();
                if hidden != 1 {
                    continue;
                }
                // The smallest non-zero cell shown, else the smallest zero:
                // `(value == 0, value)` sorts non-zero values first.
                let next = relation
                    .iter()
                    .copied()
                    .filter(|&i| !self.hidden[i])
                    .min_by_key(|&i| (self.values[i] == 0, self.values[i], i));
                if let Some(i) = next {
                    self.hidden[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The relations with exactly one hidden cell: none after [`Self::suppress`].
    pub fn relations_with_one_unknown(&self) -> Vec<Vec<CellId>> {
        self.relations()
            .filter(|cells| cells.iter().filter(|c| self.is_hidden(**c)).count() == 1)
            .collect()
    }
}

#[cfg(test)]
#[path = "tests/suppression.rs"]
mod tests;
