//! Unit tests of `migrations.rs`.

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

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
