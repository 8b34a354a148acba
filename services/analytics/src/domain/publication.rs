//! The fixed quarterly tables, in the layout of Public Health Scotland's
//! "Chronic pain waiting times" publication: for a calendar quarter (in
//! Scottish days) only, one row per board and a Scotland total.
//!
//! - `seen_consultant_led`, `seen_all_clinicians`: patients seen in the
//!   quarter by weeks waited ([`super::phs`]), and their total;
//! - `still_waiting`: patients still waiting at the end of the quarter's
//!   last day, by weeks waited so far, and their total;
//! - `referrals`: referrals received (remote pathway, standard route,
//!   total), vetted, and the vetted by current outcome.
//!
//! Disclosure control runs over the whole set at once
//! ([`super::suppression`]): within each row (total and parts), each column
//! (Scotland and the boards), and between the paired tables (all
//! clinicians = consultant-led + other clinicians, the last published
//! nowhere but known to anyone who subtracts).
//!
//! Fixed periods are the point: two overlapping free ranges could be
//! differenced to reveal a suppressed count; two different quarters cannot.

use chrono::{Datelike, Months, NaiveDate};
use pathway_proto::board::OUTCOME_CODES;
use pathway_proto::{BoardCode, days};
use serde::Serialize;

use super::fact::{Fact, Route};
use super::phs::{Band, CONSULTANT_LED, seen, waiting};
use super::suppression::{CellId, TableSet};

/// A calendar quarter, `2026-Q3`: its first and last Scottish days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarter {
    pub label: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Quarter {
    /// `YYYY-Qn`, `n` from 1 to 4; the reason otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("{text:?} is not a quarter: expected YYYY-Qn, n from 1 to 4 (2026-Q3)");
        let (year, q) = text.split_once("-Q").ok_or_else(bad)?;
        if year.len() != 4 || q.len() != 1 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || year < 1900 {
            return Err(bad());
        }
        let first = NaiveDate::from_ymd_opt(year, 3 * (q - 1) + 1, 1).ok_or_else(bad)?;
        let last = first
            .checked_add_months(Months::new(3))
            .and_then(|d| d.pred_opt())
            .ok_or_else(bad)?;
        Ok(Self {
            label: format!("{}-Q{q}", first.year()),
            first,
            last,
        })
    }

    /// Whether the quarter's last day is over by `today`: only then are its
    /// tables fixed.
    pub fn is_over(&self, today: NaiveDate) -> bool {
        self.last < today
    }
}

/// The band columns and their total.
const BAND_COLUMNS: [&str; 5] = [
    "weeks_0_12",
    "weeks_13_24",
    "weeks_25_51",
    "weeks_52_plus",
    "total",
];

/// The outcome columns of `referrals`: the codes, then anything else.
const OTHER_OUTCOME: &str = "other_outcome";

/// Counts for one board before disclosure control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardTally {
    pub seen_consultant_led: [u64; 4],
    pub seen_all_clinicians: [u64; 4],
    pub still_waiting: [u64; 4],
    pub received_remote: u64,
    pub received_standard: u64,
    pub vetted: u64,
    /// In [`OUTCOME_CODES`]' order, then [`OTHER_OUTCOME`].
    pub outcomes: [u64; OUTCOME_CODES.len() + 1],
}

fn band_index(days: u32) -> usize {
    let band = Band::of_days(days);
    Band::ALL.iter().position(|b| *b == band).unwrap_or(0)
}

impl BoardTally {
    /// Count `fact` in `quarter`.
    pub fn add(&mut self, fact: &Fact, quarter: &Quarter) {
        let within = |day: NaiveDate| quarter.first <= day && day <= quarter.last;
        if let Some(s) = seen(fact).filter(|s| within(s.day)) {
            let band = band_index(s.days);
            self.seen_all_clinicians[band] += 1;
            if s.clinic_type.as_deref() == Some(CONSULTANT_LED) {
                self.seen_consultant_led[band] += 1;
            }
        }
        if let Some(w) = waiting(fact, quarter.last) {
            self.still_waiting[band_index(w.days)] += 1;
        }
        if let (Some(at), Some(route)) = (fact.received_at, fact.route)
            && within(days::day_of(at))
        {
            match route {
                Route::Remote => self.received_remote += 1,
                Route::Standard => self.received_standard += 1,
            }
        }
        if let Some(at) = fact.vetted_at
            && within(days::day_of(at))
        {
            self.vetted += 1;
            let i = fact
                .outcome
                .as_deref()
                .and_then(|o| OUTCOME_CODES.iter().position(|c| *c == o))
                .unwrap_or(OUTCOME_CODES.len());
            if let Some(n) = self.outcomes.get_mut(i) {
                *n += 1;
            }
        }
    }
}

/// One row of a published table: a board or `scotland`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicationRow {
    /// A board code, or `scotland` for the total of every board.
    pub area: String,
    /// In the table's `columns` order; `null` where suppressed.
    pub cells: Vec<Option<u64>>,
    /// The columns suppressed in this row.
    pub suppressed: Vec<String>,
}

/// One published table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicationTable {
    /// `seen_consultant_led`, `seen_all_clinicians`, `still_waiting` or `referrals`.
    pub name: String,
    pub title: String,
    pub columns: Vec<String>,
    /// The boards in code order, then `scotland`.
    pub rows: Vec<PublicationRow>,
}

/// A table before disclosure control: its values per board and its sums.
struct Draft {
    name: &'static str,
    title: &'static str,
    columns: Vec<String>,
    /// (total column, part columns) within each row.
    sums: Vec<(usize, Vec<usize>)>,
    /// Per board, per column.
    values: Vec<Vec<u64>>,
    published: bool,
}

impl Draft {
    fn bands(
        name: &'static str,
        title: &'static str,
        tallies: &[BoardTally],
        published: bool,
        get: impl Fn(&BoardTally) -> [u64; 4],
    ) -> Self {
        Self {
            name,
            title,
            columns: BAND_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            sums: vec![(4, vec![0, 1, 2, 3])],
            values: tallies
                .iter()
                .map(|t| {
                    let b = get(t);
                    vec![b[0], b[1], b[2], b[3], b.iter().sum()]
                })
                .collect(),
            published,
        }
    }

    fn referrals(tallies: &[BoardTally]) -> Self {
        let mut columns: Vec<String> =
            ["received_remote", "received_standard", "received", "vetted"]
                .iter()
                .map(|c| (*c).to_owned())
                .collect();
        columns.extend(OUTCOME_CODES.iter().map(|c| (*c).to_owned()));
        columns.push(OTHER_OUTCOME.to_owned());
        let outcomes: Vec<usize> = (4..columns.len()).collect();
        Self {
            name: "referrals",
            title: "Referrals received in the quarter, and vetted in the quarter by outcome",
            columns,
            sums: vec![(2, vec![0, 1]), (3, outcomes)],
            values: tallies
                .iter()
                .map(|t| {
                    let mut v = vec![
                        t.received_remote,
                        t.received_standard,
                        t.received_remote + t.received_standard,
                        t.vetted,
                    ];
                    v.extend(t.outcomes);
                    v
                })
                .collect(),
            published: true,
        }
    }
}

/// A draft's cells: `[area][column]`, boards first, Scotland last.
type Grid = Vec<Vec<CellId>>;

fn lay_out(set: &mut TableSet, draft: &Draft) -> Grid {
    let columns = draft.columns.len();
    let mut grid: Grid = draft
        .values
        .iter()
        .map(|row| row.iter().map(|v| set.cell(*v)).collect())
        .collect();
    let scotland: Vec<CellId> = (0..columns)
        .map(|c| {
            let total = draft
                .values
                .iter()
                .map(|row| row.get(c).copied().unwrap_or(0))
                .sum();
            set.cell(total)
        })
        .collect();
    grid.push(scotland);
    for row in &grid {
        for (total, parts) in &draft.sums {
            let mut cells: Vec<CellId> =
                parts.iter().filter_map(|p| row.get(*p).copied()).collect();
            cells.extend(row.get(*total).copied());
            set.relate(&cells);
        }
    }
    for c in 0..columns {
        let cells: Vec<CellId> = grid.iter().filter_map(|row| row.get(c).copied()).collect();
        set.relate(&cells);
    }
    grid
}

/// The quarter's tables from each board's tally (`tallies` in
/// [`BoardCode::all`]'s order), suppressed as one set.
pub fn publish(tallies: &[BoardTally], threshold: u64) -> Vec<PublicationTable> {
    let other = |t: &BoardTally| {
        let mut o = [0; 4];
        for (i, n) in o.iter_mut().enumerate() {
            *n = t.seen_all_clinicians[i].saturating_sub(t.seen_consultant_led[i]);
        }
        o
    };
    let drafts = [
        Draft::bands(
            "seen_consultant_led",
            "Patients seen in the quarter at a consultant-led pain clinic, by weeks waited",
            tallies,
            true,
            |t| t.seen_consultant_led,
        ),
        Draft::bands(
            "seen_all_clinicians",
            "Patients seen in the quarter by the most appropriate clinician, by weeks waited",
            tallies,
            true,
            |t| t.seen_all_clinicians,
        ),
        // Published nowhere, but all clinicians minus consultant-led.
        Draft::bands("seen_other_clinicians", "", tallies, false, other),
        Draft::bands(
            "still_waiting",
            "Patients still waiting at the end of the quarter, by weeks waited",
            tallies,
            true,
            |t| t.still_waiting,
        ),
        Draft::referrals(tallies),
    ];
    let mut set = TableSet::new();
    let grids: Vec<Grid> = drafts.iter().map(|d| lay_out(&mut set, d)).collect();
    // All clinicians = consultant-led + other clinicians, cell by cell.
    if let [consultant, all, other, ..] = grids.as_slice() {
        for ((c_row, a_row), o_row) in consultant.iter().zip(all).zip(other) {
            for ((c, a), o) in c_row.iter().zip(a_row).zip(o_row) {
                set.relate(&[*c, *a, *o]);
            }
        }
    }
    set.suppress(threshold);
    let areas: Vec<String> = BoardCode::all()
        .map(|b| b.code().to_owned())
        .chain(std::iter::once("scotland".to_owned()))
        .collect();
    drafts
        .iter()
        .zip(&grids)
        .filter(|(draft, _)| draft.published)
        .map(|(draft, grid)| PublicationTable {
            name: draft.name.to_owned(),
            title: draft.title.to_owned(),
            columns: draft.columns.clone(),
            rows: areas
                .iter()
                .zip(grid)
                .map(|(area, row)| PublicationRow {
                    area: area.clone(),
                    cells: row.iter().map(|c| set.shown(*c)).collect(),
                    suppressed: draft
                        .columns
                        .iter()
                        .zip(row)
                        .filter(|(_, c)| set.is_hidden(**c))
                        .map(|(name, _)| name.clone())
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
#[path = "tests/publication.rs"]
mod tests;
