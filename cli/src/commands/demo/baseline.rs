//! The demo's baseline: a board's referrals from before it adopted the
//! pathway, as its existing system would export them for
//! `pathway analytics import` (the columns of `services/analytics/src/baseline.rs`).
//!
//! The shape follows a chronic pain service on the standard route: most
//! referrals accepted for a clinic appointment, few closed with advice or
//! self-management, vetting taking weeks rather than days, and a few
//! withdrawn before anyone looked at them.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::Rng;
use rand::rngs::StdRng;

/// Referrals a month on the standard route, by board (roughly by population).
pub fn monthly_referrals(board: &str) -> u32 {
    match board {
        "greater-glasgow-clyde" => 150,
        "lothian" => 110,
        "lanarkshire" => 80,
        "grampian" => 75,
        "tayside" => 55,
        "highland" => 50,
        "fife" => 50,
        "ayrshire-arran" => 50,
        "forth-valley" => 40,
        "dumfries-galloway" => 20,
        "borders" => 15,
        _ => 5,
    }
}

/// Outcomes on the standard route, with their weights in a hundred.
const OUTCOMES: &[(&str, u32)] = &[
    ("accept", 68),
    ("physiotherapy", 8),
    ("pain_management_programme", 7),
    ("pain_psychology", 5),
    ("advice_to_referrer", 5),
    ("redirect", 3),
    ("self_management", 2),
    ("decline", 2),
];
const PRIORITIES: &[(&str, u32)] = &[("urgent", 8), ("soon", 27), ("routine", 65)];
const AGE_BANDS: &[(&str, u32)] = &[
    ("16-24", 4),
    ("25-34", 10),
    ("35-44", 16),
    ("45-54", 22),
    ("55-64", 21),
    ("65-74", 15),
    ("75-84", 9),
    ("85+", 3),
];
const SEXES: &[(&str, u32)] = &[("female", 60), ("male", 39), ("not_known", 1)];
/// Chronic pain is commoner where deprivation is: quintile 1 is the most deprived.
const SIMD: &[(u32, u32)] = &[(1, 26), (2, 23), (3, 20), (4, 17), (5, 14)];

/// Scottish Government urban/rural classes 1 (large urban) to 6 (remote rural).
fn urban_rural(board: &str) -> &'static [(u32, u32)] {
    match board {
        "highland" | "western-isles" | "orkney" | "shetland" | "dumfries-galloway" | "borders" => {
            &[(1, 0), (2, 20), (3, 15), (4, 10), (5, 20), (6, 35)]
        }
        _ => &[(1, 45), (2, 30), (3, 8), (4, 5), (5, 7), (6, 5)],
    }
}

pub fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (value, weight) in weighted {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    weighted[0].0
}

/// The next weekday on or after `day`.
fn weekday_on_or_after(mut day: NaiveDate) -> NaiveDate {
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Duration::days(1);
    }
    day
}

/// The CSV of `board`'s referrals received from `from` up to, not
/// including, `until`; nothing happens after `today`. Returns the file and
/// how many rows it has.
pub fn csv(
    rng: &mut StdRng,
    board: &str,
    from: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
) -> (String, usize) {
    let mut out = String::from(
        "reference,received_on,vetted_on,outcome,priority,withdrawn_on,age_band,sex,urban_rural_class,simd_quintile\n",
    );
    // Referrals come in on working days, about 21.7 a month.
    let per_day = f64::from(monthly_referrals(board)) / 21.7;
    let mut rows = 0;
    let mut day = from;
    while day < until && day <= today {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            let whole = per_day.floor() as u32;
            let count = whole + u32::from(rng.random_bool(per_day - f64::from(whole)));
            for _ in 0..count {
                rows += 1;
                out.push_str(&row(rng, board, rows, day, today));
            }
        }
        day += Duration::days(1);
    }
    (out, rows)
}

fn row(rng: &mut StdRng, board: &str, n: usize, received: NaiveDate, today: NaiveDate) -> String {
    let reference = format!("{board}-{}-{n:06}", received.year());
    let (mut vetted, mut outcome, mut priority, mut withdrawn) =
        (String::new(), "", "", String::new());
    if rng.random_bool(0.03) {
        let on = received + Duration::days(rng.random_range(7..60));
        if on <= today {
            withdrawn = on.to_string();
        }
    } else {
        // Weeks, not days: at least a week, then an exponential spread,
        // three weeks in the middle and two months for the slowest tenth.
        let u: f64 = rng.random_range(0.0..1.0);
        let days = (5.0 - (1.0 - u).ln() * 25.0).min(120.0) as i64;
        let on = weekday_on_or_after(received + Duration::days(days));
        if on <= today {
            vetted = on.to_string();
            outcome = pick(rng, OUTCOMES);
            if outcome == "accept" {
                priority = pick(rng, PRIORITIES);
            }
        }
    }
    format!(
        "{reference},{received},{vetted},{outcome},{priority},{withdrawn},{},{},{},{}\n",
        pick(rng, AGE_BANDS),
        pick(rng, SEXES),
        pick(rng, urban_rural(board)),
        pick(rng, SIMD),
    )
}

#[cfg(test)]
#[path = "tests/baseline.rs"]
mod tests;
