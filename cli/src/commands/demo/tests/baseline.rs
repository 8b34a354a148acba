//! Unit tests of the demo's `baseline.rs`: the file the demo imports is one
//! analytics' own parser accepts, and its shape is the standard route's.

use super::*;
use rand::SeedableRng;

fn board_code(code: &str) -> pathway_proto::BoardCode {
    pathway_proto::BoardCode::parse(code).expect("a board code")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[test]
fn two_years_of_history_load_whole_into_analytics() {
    let mut rng = StdRng::seed_from_u64(11);
    let (from, until, today) = (date(2023, 11, 1), date(2025, 11, 1), date(2026, 11, 25));
    for board in ["highland", "lothian", "orkney"] {
        let (csv, rows) = csv(&mut rng, board, from, until, today);
        let facts =
            match pathway_analytics::domain::baseline::parse(board_code(board), csv.as_bytes()) {
                Ok(facts) => facts,
                Err(problems) => panic!("{board}: {problems:?}"),
            };
        assert_eq!(facts.len(), rows, "{board}");
        // About the board's monthly volume for 24 months.
        let expected = f64::from(monthly_referrals(board)) * 24.0;
        let ratio = rows as f64 / expected;
        assert!(
            (0.85..1.15).contains(&ratio),
            "{board}: {rows} rows, expected about {expected}"
        );
        for fact in &facts {
            let received = fact.received_at.expect("received").date_naive();
            assert!(
                from <= received && received < until,
                "{board}: received {received}"
            );
            if let Some(vetted) = fact.vetted_at {
                assert!(vetted.date_naive() >= received);
                assert!(vetted.date_naive() <= today);
            }
        }
    }
}

#[test]
fn the_standard_route_mostly_accepts_and_takes_weeks() {
    let mut rng = StdRng::seed_from_u64(5);
    let today = date(2026, 11, 25);
    let (csv, _) = csv(
        &mut rng,
        "greater-glasgow-clyde",
        date(2024, 1, 1),
        date(2026, 1, 1),
        today,
    );
    let facts = pathway_analytics::domain::baseline::parse(
        board_code("greater-glasgow-clyde"),
        csv.as_bytes(),
    )
    .unwrap_or_else(|problems| panic!("{problems:?}"));
    let vetted: Vec<_> = facts.iter().filter(|f| f.vetted_at.is_some()).collect();
    let accepted = vetted
        .iter()
        .filter(|f| f.outcome.as_deref() == Some("accept"))
        .count();
    let share = accepted as f64 / vetted.len() as f64;
    assert!((0.6..0.76).contains(&share), "accept share {share}");
    let mut waits: Vec<i64> = vetted
        .iter()
        .filter_map(|f| Some((f.vetted_at? - f.received_at?).num_days()))
        .collect();
    waits.sort_unstable();
    let median = waits[waits.len() / 2];
    assert!((15..=30).contains(&median), "median wait {median} days");
    // Only accepted referrals have a priority.
    assert!(
        facts
            .iter()
            .all(|f| f.priority.is_none() || f.outcome.as_deref() == Some("accept"))
    );
}

#[test]
fn nothing_after_today() {
    let mut rng = StdRng::seed_from_u64(3);
    let today = date(2026, 11, 25);
    let (csv, rows) = csv(&mut rng, "fife", date(2024, 11, 25), today, today);
    assert!(rows > 0);
    let facts = pathway_analytics::domain::baseline::parse(board_code("fife"), csv.as_bytes())
        .unwrap_or_else(|problems| panic!("{problems:?}"));
    for fact in facts {
        for at in [fact.received_at, fact.vetted_at, fact.withdrawn_at]
            .into_iter()
            .flatten()
        {
            assert!(at.date_naive() <= today);
        }
    }
}
