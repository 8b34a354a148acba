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

#[tokio::test]
async fn a_connection_the_pool_opens_later_still_overwrites_what_is_deleted() {
    use sea_orm::{ConnectionTrait, Statement};

    let dir = tempfile::tempdir().expect("a directory");
    let settings = DatabaseSettings {
        url: format!("sqlite://{}/pragmas.db", dir.path().display()),
        max_connections: 1,
    };
    let db = connect(&settings).await.expect("open");
    let pool = db.get_sqlite_connection_pool();
    // The pool's connection leaves it, as one past its lifetime does; the
    // next statement runs on a connection the pool opens afresh.
    let first = pool.acquire().await.expect("the connection");
    drop(first.detach());
    let row = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
                .await
                .expect("a pragma")
                .expect("a row")
        }
    };
    let secure: i32 = row("PRAGMA secure_delete")
        .await
        .try_get_by_index(0)
        .expect("a number");
    assert_eq!(secure, 1, "secure_delete on the new connection");
    let synchronous: i32 = row("PRAGMA synchronous")
        .await
        .try_get_by_index(0)
        .expect("a number");
    assert_eq!(synchronous, 2, "synchronous=FULL on the new connection");
    let journal: String = row("PRAGMA journal_mode")
        .await
        .try_get_by_index(0)
        .expect("a mode");
    assert_eq!(journal, "wal");
    let cache: i64 = row("PRAGMA cache_size")
        .await
        .try_get_by_index(0)
        .expect("a number");
    assert_eq!(cache.to_string(), SQLITE_CACHE_KIB);
}

/// sqlx 0.9.0 leaves Nagle's algorithm on; each connection the pool opens
/// turns it off for the sockets to the database's port (`db::nodelay`).
#[tokio::test]
async fn each_connection_the_pool_opens_to_postgres_sends_without_delay() {
    use sea_orm::sqlx::postgres::PgConnectOptions;

    let Some(url) = crate::test_databases::postgres_url().await else {
        eprintln!("skipped: no PostgreSQL answers");
        return;
    };
    let options: PgConnectOptions = url.parse().expect("a PostgreSQL URL");
    let address = (options.get_host().to_owned(), options.get_port());
    let plain = || std::net::TcpStream::connect(address.clone()).expect("PostgreSQL listens");
    // Sockets to the same port opened as sqlx 0.9.0 opens its own.
    let before = plain();
    assert!(!before.nodelay().expect("readable"), "off by default");

    let settings = DatabaseSettings {
        url,
        max_connections: 1,
    };
    let db = connect(&settings).await.expect("open");
    assert!(
        before.nodelay().expect("readable"),
        "on once the pool connects"
    );

    let later = plain();
    let pool = db.get_postgres_connection_pool();
    drop(pool.acquire().await.expect("the connection").detach());
    db.execute_unprepared("SELECT 1")
        .await
        .expect("a statement on a new connection");
    assert!(
        later.nodelay().expect("readable"),
        "on again when the pool opens another connection"
    );
}

/// A batch's look-up in a consumer's inbox stays in the primary key's
/// condition even in the plan PostgreSQL caches for the statement, however
/// many rows the consumer's inbox holds (`is_any_of`).
#[tokio::test]
async fn a_long_list_of_ids_is_looked_up_through_the_index_in_a_cached_plan() {
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait, Statement, TransactionTrait};

    use crate::inbox::entity;

    let databases = crate::test_databases::Databases::fresh().await;
    for (name, db) in &databases.dbs {
        let backend = db.get_database_backend();
        let schema = Schema::new(backend);
        db.execute(&schema.create_table_from_entity(entity::Entity))
            .await
            .expect("the inbox table");
        // One consumer's inbox, thousands of rows: what the key's first
        // column selects is all of it.
        db.execute_unprepared(
            "INSERT INTO inbox (consumer, event_id, subject, handled_at) \
             SELECT 'analytics', 'event-' || n, 'pathway.v1.x', CURRENT_TIMESTAMP \
             FROM (WITH RECURSIVE ns(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ns WHERE n < 100000) \
                   SELECT n FROM ns) AS numbers",
        )
        .await
        .expect("the rows");
        let ids: Vec<String> = (0..2048).map(|n| format!("event-{}", n * 37)).collect();
        let query = entity::Entity::find()
            .filter(entity::Column::Consumer.eq("analytics"))
            .filter(is_any_of(backend, entity::Column::EventId, ids.clone()));
        let found = query.clone().all(db).await.expect("the look-up");
        assert_eq!(found.len(), ids.len() - 1, "{name}: every id but event-0");

        if backend != DatabaseBackend::Postgres {
            continue;
        }
        db.execute_unprepared("ANALYZE inbox")
            .await
            .expect("statistics");
        // The plan a prepared statement gets once PostgreSQL caches one,
        // on one connection.
        let txn = db.begin().await.expect("a connection");
        txn.execute_unprepared("SET plan_cache_mode = force_generic_plan")
            .await
            .expect("the cached plan");
        let sql = query.build(backend).sql;
        txn.execute_unprepared(&format!("PREPARE look_up AS {sql}"))
            .await
            .expect("prepared");
        let listed = ids
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        let plan = txn
            .query_all_raw(Statement::from_string(
                backend,
                format!("EXPLAIN EXECUTE look_up('analytics', ARRAY[{listed}])"),
            ))
            .await
            .expect("the plan");
        let plan: Vec<String> = plan
            .iter()
            .map(|row| row.try_get_by_index(0).expect("a line"))
            .collect();
        let plan = plan.join("\n");
        assert!(
            plan.lines()
                .any(|line| line.contains("Index Cond") && line.contains("event_id")),
            "{name}: the ids are in the index's condition:\n{plan}"
        );
        assert!(
            !plan.contains("Filter"),
            "{name}: no row is tested against the list:\n{plan}"
        );
        txn.rollback().await.expect("rolled back");
    }
    databases.drop().await;
}
