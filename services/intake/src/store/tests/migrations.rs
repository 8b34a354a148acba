//! Unit tests of `migrations.rs`.

use sea_orm::{ConnectionTrait, Database, EntityTrait};

use super::*;

/// A database made before `m0003_board_settings` (no `question` column,
/// no settings table) takes the migration and keeps its rows.
#[tokio::test]
async fn an_older_database_gains_the_question_column() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}/intake.db?mode=rwc", dir.path().display());
    let db = Database::connect(url.as_str()).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    // Take the database back to how m0002 left it before questions existed.
    for sql in [
        "DROP TABLE board_settings_changes",
        "ALTER TABLE information_requests DROP COLUMN question",
        "DELETE FROM seaql_migrations WHERE version = 'm0003_board_settings'",
        "INSERT INTO information_requests (id, referral_id, requested_by, requested_at) \
         VALUES ('r1', 'x', 'dr-old', '2026-01-05 10:00:00+00:00')",
    ] {
        db.execute_unprepared(sql).await.expect(sql);
    }
    let manager = SchemaManager::new(&db);
    assert!(
        !manager
            .has_column("information_requests", "question")
            .await
            .expect("schema")
    );

    Migrator::up(&db, None)
        .await
        .expect("m0003 applies to the older database");
    assert!(
        manager
            .has_column("information_requests", "question")
            .await
            .expect("schema")
    );
    assert!(
        manager
            .has_table("board_settings_changes")
            .await
            .expect("schema")
    );
    let old = information_request::Entity::find_by_id("r1".to_owned())
        .one(&db)
        .await
        .expect("read")
        .expect("the older request is still there");
    assert_eq!(old.question, None);
}
