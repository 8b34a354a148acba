use super::*;

#[test]
fn busy_and_locked_are_faults_that_may_heal() {
    // SQLite: BUSY, LOCKED and their extended codes (BUSY_SNAPSHOT, BUSY_TIMEOUT, LOCKED_SHAREDCACHE).
    for code in ["5", "6", "517", "773", "262"] {
        assert!(is_busy_code(code), "{code}");
    }
    // PostgreSQL: shutting down, starting, too many connections, lock not available.
    for code in ["57P01", "57P02", "57P03", "53300", "55P03"] {
        assert!(is_busy_code(code), "{code}");
    }
}

#[test]
fn a_statement_that_fails_on_its_own_merits_is_not_busy() {
    // SQLite: constraint, error, read-only; PostgreSQL: unique violation, syntax, serialization.
    for code in ["19", "2067", "1", "8", "23505", "42601", "40001"] {
        assert!(!is_busy_code(code), "{code}");
    }
}

#[tokio::test]
async fn a_sqlite_file_locked_by_another_process_is_unavailable() {
    use sea_orm::sqlx::{self, Connection as _};
    use sea_orm::{ConnectionTrait, Database};

    let dir = tempfile::tempdir().expect("a directory");
    let url = format!("sqlite://{}/locked.db?mode=rwc", dir.path().display());
    let db = Database::connect(url.as_str()).await.expect("open");
    db.execute_unprepared("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER)")
        .await
        .expect("a table");
    let mut holder = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("a second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .expect("the write lock");
    // A read, then a write in the same transaction: SQLite answers BUSY.
    let txn = sea_orm::TransactionTrait::begin(&db).await.expect("begin");
    txn.execute_unprepared("SELECT COUNT(*) FROM t")
        .await
        .expect("reads still work");
    let error = txn
        .execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .expect_err("the file is locked");
    assert!(is_unavailable(&error), "{error:?}");
    assert!(!is_unique_violation(&error), "{error:?}");
}
