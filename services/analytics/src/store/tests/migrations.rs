//! Unit tests of `migrations.rs`.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, EntityTrait};

use super::*;

/// A database made before `m0003_first_appointments` gains the first
/// appointment's columns and keeps its facts.
#[tokio::test]
async fn an_older_database_gains_the_first_appointment_columns() {
    // One connection: each connection to `:memory:` is a database of its own.
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    let columns = [
        "first_appointment_id",
        "first_appointment_booked_for",
        "first_appointment_attended_at",
        "first_appointment_clinic",
        "first_appointment_dna",
    ];
    for column in columns {
        db.execute_unprepared(&format!("ALTER TABLE referral_facts DROP COLUMN {column}"))
            .await
            .expect(column);
    }
    db.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm0003_first_appointments'",
    )
    .await
    .expect("forget the migration");
    db.execute_unprepared(
        "INSERT INTO referral_facts (referral_id, board, age_band, sex, urban_rural_class, \
         simd_quintile, patient_pseudonym, red_flags, re_referral, pauses_json, \
         notification_failures) VALUES ('r1', 'highland', 'unknown', 'female', 0, 0, '', 0, \
         false, '[]', 0)",
    )
    .await
    .expect("an older fact");
    let manager = SchemaManager::new(&db);
    assert!(
        !manager
            .has_column("referral_facts", "first_appointment_dna")
            .await
            .expect("schema")
    );

    Migrator::up(&db, None)
        .await
        .expect("m0003 applies to the older database");
    for column in columns {
        assert!(
            manager
                .has_column("referral_facts", column)
                .await
                .expect("schema"),
            "{column}"
        );
    }
    let fact = crate::store::facts::load(&db, "r1")
        .await
        .expect("the older fact reads")
        .expect("it is still there");
    assert_eq!(fact.first_appointment, Default::default());
}

/// A database made before `m0004_practice_codes` gains the practice code,
/// empty in its older facts.
#[tokio::test]
async fn an_older_database_gains_the_practice_code() {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    db.execute_unprepared("ALTER TABLE referral_facts DROP COLUMN practice_code")
        .await
        .expect("drop the column");
    db.execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm0004_practice_codes'")
        .await
        .expect("forget the migration");
    db.execute_unprepared(
        "INSERT INTO referral_facts (referral_id, board, age_band, sex, urban_rural_class, \
         simd_quintile, patient_pseudonym, red_flags, re_referral, pauses_json, \
         notification_failures) VALUES ('r1', 'highland', 'unknown', 'female', 0, 0, '', 0, \
         false, '[]', 0)",
    )
    .await
    .expect("an older fact");
    Migrator::up(&db, None)
        .await
        .expect("m0004 applies to the older database");
    let fact = crate::store::facts::load(&db, "r1")
        .await
        .expect("the older fact reads")
        .expect("it is still there");
    assert_eq!(fact.practice_code, "");
}

/// The counters of a database made before `m0014_counters_without_rowid`
/// move whole into a `WITHOUT ROWID` table; a move that fails half-way
/// leaves the old table as it was, and runs again once mended.
#[tokio::test]
async fn older_counters_move_whole_into_a_table_without_rowid() {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    let older = |columns: &str| {
        format!(
            "DROP TABLE metric_counters; \
             CREATE TABLE metric_counters (dimension TEXT NOT NULL, board TEXT NOT NULL, \
             day TEXT NOT NULL, group_name TEXT NOT NULL, counter TEXT NOT NULL{columns}, \
             PRIMARY KEY (dimension, board, day, group_name, counter)); \
             DELETE FROM seaql_migrations WHERE version = 'm0014_counters_without_rowid';"
        )
    };
    let table_sql = || async {
        db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT group_concat(sql, ';') FROM sqlite_master WHERE name LIKE 'metric_counters%' AND type = 'table'",
        ))
        .await
        .expect("the schema reads")
        .expect("a row")
        .try_get_by_index::<String>(0)
        .expect("the tables' SQL")
    };

    // Without its `n` the copy fails after the new table was made: all of
    // it is rolled back, and the migration is not recorded.
    db.execute_unprepared(&older(""))
        .await
        .expect("a broken older table");
    Migrator::up(&db, None)
        .await
        .expect_err("the copy cannot work without n");
    let sql = table_sql().await;
    assert!(!sql.contains("metric_counters_by_key"), "{sql}");
    assert!(!sql.contains("WITHOUT ROWID"), "{sql}");

    db.execute_unprepared(&older(", n BIGINT NOT NULL"))
        .await
        .expect("an older table");
    db.execute_unprepared(
        "INSERT INTO metric_counters VALUES \
         ('adoption', 'highland', '2026-03-29', 'after', 'rr', 3), \
         ('adoption:month', 'highland', '2026-03', 'after', 'rr', 3), \
         ('sex', 'highland', '', 'female', 'f', 7)",
    )
    .await
    .expect("older counters");
    Migrator::up(&db, None)
        .await
        .expect("m0014 applies to the older database");
    let sql = table_sql().await;
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    let mut rows: Vec<(String, String, String, String, String, i64)> =
        metric_counter::Entity::find()
            .all(&db)
            .await
            .expect("the counters read")
            .into_iter()
            .map(|c| (c.dimension, c.board, c.day, c.group_name, c.counter, c.n))
            .collect();
    rows.sort();
    let row = |d: &str, day: &str, g: &str, c: &str, n| {
        (
            d.into(),
            "highland".into(),
            day.into(),
            g.into(),
            c.into(),
            n,
        )
    };
    assert_eq!(
        rows,
        [
            row("adoption", "2026-03-29", "after", "rr", 3),
            row("adoption:month", "2026-03", "after", "rr", 3),
            row("sex", "", "female", "f", 7),
        ]
    );
}
