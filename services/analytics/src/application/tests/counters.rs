//! The metrics summed from the counters (`store::aggregates`) are
//! the metrics worked out from the facts, for many random queries over
//! facts that were changed after they were first counted and boards whose
//! settings and pathway changed after their facts were counted.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use pathway_proto::board::BoardSettings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;

use super::{counted_rows, rows_from_facts};
use crate::domain::fact::Fact;
use crate::domain::fact::{Pause, Route};
use crate::domain::metrics::MetricsQuery;
use crate::domain::metrics::{MetricRules, MetricsRow, compute};
use crate::domain::period::Granularity;
use crate::store::Migrator;
use crate::store::aggregates::{recompute, recompute_all, record_change};
use crate::store::{boards, fact, facts, metric_counter};
use pathway_proto::BoardCode;

/// A small, fixed pseudo-random sequence (xorshift), so a failure repeats.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const BOARDS: [&str; 3] = ["highland", "lothian", "fife"];
const OUTCOMES: [&str; 6] = [
    "accept",
    "advice_to_referrer",
    "self_management",
    "reject",
    "redirect",
    "not_a_code",
];

fn board(code: &str) -> BoardCode {
    BoardCode::parse(code).expect("a board")
}

fn start() -> DateTime<Utc> {
    "2025-01-01T00:00:00Z".parse().expect("a time")
}

/// A time up to `days` days after `after`, at any minute of the day.
fn later(r: &mut Random, after: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    after + Duration::minutes(r.below(days * 24 * 60 + 1) as i64)
}

fn new_fact(r: &mut Random, i: usize) -> Fact {
    let mut fact = Fact::new(
        &format!("r{i}"),
        board(BOARDS[r.below(BOARDS.len() as u64) as usize]),
    );
    fact.route = Some(if r.chance(80) {
        Route::Remote
    } else {
        Route::Standard
    });
    fact.received_at = Some(later(r, start(), 640));
    fact.attributes.age_band = r.pick(&["18-39", "40-64", "65+"]).to_string();
    fact.attributes.sex = r.pick(&["female", "male", "unknown"]).to_string();
    fact.attributes.urban_rural_class = r.below(7) as u8;
    fact.attributes.simd_quintile = r.below(6) as u8;
    if r.chance(85) {
        fact.attributes.patient_pseudonym = format!("p{}", r.below(60));
    }
    fact
}

/// One change of the kinds a referral's events make.
fn change(r: &mut Random, fact: &mut Fact) {
    let Some(received) = fact.received_at else {
        return;
    };
    let asked = fact.vetted_at.unwrap_or(received + Duration::days(40));
    match r.below(5) {
        0 if fact.vetted_at.is_none() => {
            fact.vetted_at = Some(later(r, received, 30));
            fact.outcome = Some(r.pick(&OUTCOMES).to_string());
            if fact.outcome.as_deref() == Some("accept") {
                fact.priority = Some(r.pick(&["urgent", "soon", "routine"]).to_string());
            }
        }
        1 if fact.vetted_at.is_some() => {
            fact.outcome = Some(r.pick(&OUTCOMES).to_string());
            fact.priority = (fact.outcome.as_deref() == Some("accept"))
                .then(|| r.pick(&["urgent", "soon", "routine"]).to_string());
        }
        2 => {
            let requested = later(r, received, 10).min(asked);
            let answered = r.chance(70).then(|| later(r, requested, 12));
            fact.pauses.push(Pause {
                information_request_id: format!("q{}", fact.pauses.len()),
                requested_at: requested,
                answered_at: answered,
            });
        }
        3 if fact.withdrawn_at.is_none() => fact.withdrawn_at = Some(later(r, received, 60)),
        _ => fact.notification_failures += 1,
    }
}

async fn database() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    db
}

/// A fact saved and counted as the consumer does, its board's context
/// from `cache` (kept across the boards' changes, as in the consumer), and
/// its re-referrals as the store keeps them.
async fn save(db: &DatabaseConnection, cache: &boards::ContextCache, new: &Fact) {
    let old = facts::load(db, &new.referral_id).await.expect("loaded");
    let mut new = new.clone();
    new.re_referred = old.as_ref().map(|f| f.re_referred).unwrap_or_default();
    facts::save(db, &new, old.is_some()).await.expect("saved");
    let context = cache.get(db, new.board).await.expect("a board's context");
    record_change(db, old.as_ref(), &new, &context)
        .await
        .expect("counted");
}

/// Settings and pathway changes for `code`, as the consumer records them.
async fn change_board(db: &DatabaseConnection, r: &mut Random, code: &str, n: usize) {
    let settings = BoardSettings {
        vetting_target_working_days: 2 + r.below(10) as u32,
        scottish_bank_holidays: r.chance(50),
        extra_holidays: vec![NaiveDate::from_ymd_opt(2025, 6, 2).expect("a date")],
        ..BoardSettings::default()
    };
    let json = serde_json::to_string(&settings).expect("settings serialise");
    let effective = NaiveDate::from_ymd_opt(2025, 1 + r.below(12) as u32, 1);
    boards::record_settings_change(db, &format!("s{n}"), board(code), &json, start(), effective)
        .await
        .expect("settings recorded");
    let on = NaiveDate::from_ymd_opt(2025, 1 + r.below(12) as u32, 10).expect("a date");
    boards::record_pathway_change(db, &format!("p{n}"), board(code), true, on, start())
        .await
        .expect("pathway recorded");
    recompute(db, &[board(code)]).await.expect("recounted");
}

fn query(r: &mut Random) -> MetricsQuery {
    let mut boards: Vec<BoardCode> = BOARDS
        .iter()
        .filter(|_| r.chance(60))
        .map(|b| board(b))
        .collect();
    if boards.is_empty() {
        boards.push(board(BOARDS[r.below(BOARDS.len() as u64) as usize]));
    }
    let day0 = NaiveDate::from_ymd_opt(2024, 12, 1).expect("a date");
    let mut from = day0 + Duration::days(r.below(500) as i64);
    let mut to = from + Duration::days(r.below(400) as i64);
    // Whole months too: read from the counters by month alone.
    if r.chance(30) {
        from = from.with_day(1).expect("a first day");
        to = to
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
            .expect("a last day");
    }
    let split = if r.chance(25) {
        None
    } else {
        Some(*r.pick(&crate::domain::aggregates::DIMENSIONS))
    };
    MetricsQuery {
        boards,
        from,
        to,
        by: *r.pick(&[Granularity::Week, Granularity::Month, Granularity::Quarter]),
        split,
        as_of: day0 + Duration::days(200 + r.below(700) as i64),
    }
}

#[tokio::test]
async fn the_counters_give_the_metrics_of_the_facts_for_random_queries() {
    counters_give_the_metrics_of_the_facts(&database().await).await;
}

/// The same on PostgreSQL, in a database of its own, when one answers at
/// `DATABASE_URL` (or the local default).
#[tokio::test]
async fn the_counters_give_the_metrics_of_the_facts_on_postgresql() {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let server = match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        Database::connect(url.as_str()),
    )
    .await
    {
        Ok(Ok(server)) => server,
        _ => {
            eprintln!("note: no PostgreSQL answers; the comparison ran on SQLite only");
            return;
        }
    };
    let name = format!("analytics_counters_{}", uuid::Uuid::new_v4().simple());
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a database of its own");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let db = Database::connect(format!("{base}/{name}"))
        .await
        .expect("PostgreSQL opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    counters_give_the_metrics_of_the_facts(&db).await;
    db.close().await.ok();
    server
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .expect("the database dropped");
}

async fn counters_give_the_metrics_of_the_facts(db: &DatabaseConnection) {
    let db = db.clone();
    let cache = boards::ContextCache::default();
    let mut r = Random(0x5eed_2026_1701);
    for (n, code) in BOARDS.iter().enumerate() {
        change_board(&db, &mut r, code, n).await;
    }
    let mut all: Vec<Fact> = Vec::new();
    for i in 0..600 {
        let fact = new_fact(&mut r, i);
        save(&db, &cache, &fact).await;
        all.push(fact);
        // Changes to earlier facts, after they were counted.
        for _ in 0..2 {
            let j = r.below(all.len() as u64) as usize;
            change(&mut r, &mut all[j]);
            save(&db, &cache, &all[j]).await;
        }
        if i % 200 == 100 {
            let code = *r.pick(&BOARDS);
            change_board(&db, &mut r, code, 10 + i).await;
        }
    }
    let stored: Vec<Fact> = fact::Entity::find()
        .all(&db)
        .await
        .expect("facts read")
        .iter()
        .map(|row| facts::from_row(row).expect("a fact"))
        .collect();
    assert_eq!(stored.len(), all.len());
    let mut compared = 0;
    for _ in 0..300 {
        let query = query(&mut r);
        let rules = MetricRules {
            without_specialist: vec!["advice_to_referrer".into(), "self_management".into()],
            suppression_threshold: *r.pick(&[1, 1, 3]),
        };
        let contexts = boards::contexts(&db, &query.boards)
            .await
            .expect("contexts");
        let counted = counted_rows(&db, &contexts, &query, &rules)
            .await
            .expect("counted rows");
        let read = rows_from_facts(&db, &contexts, &query, &rules)
            .await
            .expect("rows from facts");
        let of_boards: Vec<Fact> = stored
            .iter()
            .filter(|f| query.boards.contains(&f.board))
            .cloned()
            .collect();
        let reference = compute(&of_boards, &contexts, &query, &rules);
        let json = |rows: &[MetricsRow]| serde_json::to_value(rows).expect("rows serialise");
        assert_eq!(
            json(&counted),
            json(&reference),
            "counters differ for {query:?}"
        );
        assert_eq!(
            json(&read),
            json(&reference),
            "facts read differ for {query:?}"
        );
        compared += counted.len();
    }
    assert!(compared > 1_000, "only {compared} rows compared");
}

/// Counters made again from the facts are the counters kept one change at
/// a time.
#[tokio::test]
async fn recounting_a_board_gives_the_counters_kept_one_change_at_a_time() {
    let db = database().await;
    let cache = boards::ContextCache::default();
    let mut r = Random(0xfeed_beef);
    for (n, code) in BOARDS.iter().enumerate() {
        change_board(&db, &mut r, code, n).await;
    }
    let mut all: Vec<Fact> = Vec::new();
    for i in 0..200 {
        let fact = new_fact(&mut r, i);
        save(&db, &cache, &fact).await;
        all.push(fact);
        let j = r.below(all.len() as u64) as usize;
        change(&mut r, &mut all[j]);
        save(&db, &cache, &all[j]).await;
    }
    let kept = counters(&db).await;
    recompute_all(&db).await.expect("recounted");
    assert_eq!(counters(&db).await, kept);
}

async fn counters(db: &DatabaseConnection) -> Vec<(String, String, String, String, String, i64)> {
    let mut rows: Vec<_> = metric_counter::Entity::find()
        .all(db)
        .await
        .expect("counters read")
        .into_iter()
        .filter(|c| c.n != 0)
        .map(|c| (c.dimension, c.board, c.day, c.group_name, c.counter, c.n))
        .collect();
    rows.sort();
    rows
}
