//! Unit tests of `boards.rs`: a board's settings history from its changes.

use pathway_proto::board::BoardSettings;
use sea_orm::{ConnectOptions, Database};
use sea_orm_migration::prelude::MigratorTrait;

use super::*;
use crate::store::Migrator;

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a day")
}

fn json(days: u32) -> String {
    serde_json::to_string(&BoardSettings {
        vetting_target_working_days: days,
        ..BoardSettings::default()
    })
    .expect("settings serialise")
}

/// Changes with and without an effective day, one saved later from a day
/// ahead, judge each day by the change in force on it.
#[tokio::test]
async fn each_day_has_the_change_in_force_on_it() {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    let at = |text: &str| text.parse::<DateTime<Utc>>().expect("an instant");
    // Saved at 23:30 UTC on 31 May 2026, 00:30 BST on 1 June, no day given:
    // in force from 1 June.
    record_settings_change(
        &db,
        "a",
        highland(),
        &json(7),
        at("2026-05-31T23:30:00Z"),
        None,
    )
    .await
    .expect("kept");
    let from_september = Some(day("2026-09-01"));
    record_settings_change(
        &db,
        "b",
        highland(),
        &json(4),
        at("2026-06-10T09:00:00Z"),
        from_september,
    )
    .await
    .expect("kept");
    record_settings_change(
        &db,
        "c",
        highland(),
        &json(9),
        at("2026-06-11T09:00:00Z"),
        Some(day("2026-07-01")),
    )
    .await
    .expect("kept");
    let got = contexts(&db, &[highland()]).await.expect("loads");
    let board = &got[&highland()];
    let default = BoardSettings::default().vetting_target_working_days;
    assert_eq!(board.target_on(day("2026-05-31")), default);
    assert_eq!(board.target_on(day("2026-06-01")), 7);
    assert_eq!(board.target_on(day("2026-07-01")), 9);
    assert_eq!(board.target_on(day("2026-09-01")), 4);
}
