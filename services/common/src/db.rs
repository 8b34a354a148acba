//! The database: one per service, SQLite by default, PostgreSQL when the URL
//! says so, with the same migrations.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DbErr, Schema, sea_query::Index,
};
use sea_orm_migration::prelude::*;

use crate::settings::DatabaseSettings;

mod nodelay;

/// SQLite's page cache per connection, in KiB (a negative `cache_size`).
const SQLITE_CACHE_KIB: &str = "-65536";

/// Connect, creating the SQLite file (and its folder) when needed.
///
/// SQLite runs in WAL mode with one connection: writes are serialised by the
/// pool rather than failing with `SQLITE_BUSY` when two transactions race to
/// upgrade to writers. PostgreSQL uses the configured pool size.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.url.trim();
    let (url, max_connections) = if let Some(path) = url.strip_prefix("sqlite://") {
        let (file, query) = path.split_once('?').unwrap_or((path, ""));
        if file != ":memory:"
            && let Some(dir) = Path::new(file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
        }
        let query = if query.contains("mode=") {
            query.to_owned()
        } else if query.is_empty() {
            "mode=rwc".to_owned()
        } else {
            format!("{query}&mode=rwc")
        };
        (format!("sqlite://{file}?{query}"), 1)
    } else {
        (url.to_owned(), settings.max_connections)
    };
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    // Set on each connection the pool opens, not once: the pool replaces a
    // connection past its lifetime, and a new one starts with SQLite's
    // defaults. `secure_delete`: a deleted or emptied row is overwritten
    // with zeros, so that nothing erased or past its retention lingers in
    // the file's free space. `cache_size`: the pages a batch of counters
    // and facts touches stay in memory between batches (SQLite's default
    // is 2 MiB).
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .pragma("secure_delete", "ON")
            .pragma("cache_size", SQLITE_CACHE_KIB)
    });
    if url.starts_with("postgres")
        && let Ok(postgres) = url.parse::<PgConnectOptions>()
    {
        let port = postgres.get_port();
        options.map_sqlx_postgres_pool_opts(move |pool| {
            pool.after_connect(move |_, _| {
                Box::pin(async move {
                    nodelay::after_connect(port);
                    Ok(())
                })
            })
        });
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(&url)))?;
    Ok(db)
}

/// Make what was just deleted or emptied unreadable from the disk, as far
/// as the database allows: on SQLite (which overwrites freed space with
/// zeros, `secure_delete`) the write-ahead log's older copies of the pages
/// are folded into the file and the log emptied; on PostgreSQL nothing
/// (autovacuum reclaims dead rows, which no query returns meanwhile).
/// Best effort: a reader holding an old snapshot can keep the log, and the
/// next call finishes the job.
pub async fn scrub_free_space(db: &DatabaseConnection) {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    if let Err(error) = db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE);")
        .await
    {
        tracing::warn!(%error, "cannot fold SQLite's write-ahead log into the file");
    }
}

/// A consumer's note that a batch erased something, so that
/// [`scrub_free_space`] follows its commit ([`crate::inbox::Handler::after_commit`]).
#[derive(Debug, Default)]
pub struct ScrubAfterCommit(std::sync::atomic::AtomicBool);

impl ScrubAfterCommit {
    /// Something was erased in the batch being handled.
    pub fn mark(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Scrub if something was erased since the last call.
    pub async fn run(&self, db: &DatabaseConnection) {
        if self.0.swap(false, std::sync::atomic::Ordering::SeqCst) {
            scrub_free_space(db).await;
        }
    }
}

/// Insert `rows` into `E`'s table on PostgreSQL in one statement whatever
/// their number: they travel as one JSON array of objects, read back by
/// `jsonb_to_recordset` with the entity's columns and types, and `conflict`
/// (an `ON CONFLICT` clause, or empty) says what a row already there
/// becomes. A statement of many rows' values would be parsed and planned
/// afresh for each size of batch, which costs more than writing the rows;
/// PostgreSQL's parameters would also run out at 65 535. A time travels cut
/// to the microsecond, as a bound value is, so a row reads back the same
/// either way.
pub async fn insert_rows_as_json<E>(
    db: &impl ConnectionTrait,
    rows: &[E::Model],
    conflict: &str,
) -> anyhow::Result<()>
where
    E: sea_orm::EntityTrait,
    E::Model: serde::Serialize,
{
    use sea_orm::{ColumnTrait as _, ColumnType, IdenStatic as _, Iterable as _};
    if rows.is_empty() {
        return Ok(());
    }
    let table = E::default().table_name().to_owned();
    let mut columns = Vec::new();
    for column in E::Column::iter() {
        let kind = match column.def().get_column_type() {
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => "text",
            ColumnType::TimestampWithTimeZone => "timestamptz",
            ColumnType::SmallInteger => "smallint",
            ColumnType::Integer => "integer",
            ColumnType::BigInteger => "bigint",
            ColumnType::Boolean => "boolean",
            other => anyhow::bail!(
                "{table}.{} is of a type ({other:?}) rows cannot be written as JSON in",
                column.as_str()
            ),
        };
        columns.push((column.as_str(), kind));
    }
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let mut value = serde_json::to_value(row).context("cannot write a row as JSON")?;
        for (name, _) in columns.iter().filter(|(_, kind)| *kind == "timestamptz") {
            let Some(text) = value.get(*name).and_then(serde_json::Value::as_str) else {
                continue;
            };
            let at = chrono::DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("{table}.{name} {text:?} is not a time"))?;
            value[*name] = serde_json::Value::String(
                at.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string(),
            );
        }
        values.push(value);
    }
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let record: Vec<String> = columns
        .iter()
        .map(|(name, kind)| format!("{name} {kind}"))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({names}) SELECT {names} FROM jsonb_to_recordset($1::jsonb) AS r({}) {conflict}",
        record.join(", ")
    );
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        [sea_orm::Value::Json(Some(Box::new(
            serde_json::Value::Array(values),
        )))],
    ))
    .await
    .with_context(|| format!("cannot write the rows of {table}"))?;
    Ok(())
}

/// `column IN (values)`, on PostgreSQL as `column = ANY($1)` with the
/// values in one array parameter. With a parameter per value, the plan
/// PostgreSQL caches for a prepared statement can leave the list out of the
/// index's condition and test it against every row the rest selects: a
/// batch's look-up in a consumer's inbox read the whole inbox, seconds once
/// it held 100,000 rows. One array stays in the index's condition.
pub fn is_any_of<C: ColumnTrait>(
    backend: DatabaseBackend,
    column: C,
    values: Vec<String>,
) -> sea_orm::sea_query::Expr {
    match backend {
        DatabaseBackend::Postgres => sea_orm::sea_query::Expr::col(column)
            .eq(PgFunc::any(sea_orm::sea_query::Expr::val(values))),
        _ => column.is_in(values),
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether `error` is the database not answering (a fault that may heal: the
/// connection refused or lost, the pool exhausted or closed, the file locked
/// by another process, the server shutting down), as opposed to a statement
/// that failed on its own merits.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            match cause.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_) => true,
                sqlx::Error::Database(cause) => cause.code().is_some_and(|c| is_busy_code(&c)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// A database error code that means "busy, try again": SQLite's `BUSY` and
/// `LOCKED` (with their extended codes), PostgreSQL's server shutting down
/// or not accepting connections yet, too many connections, a lock not
/// available.
pub fn is_busy_code(code: &str) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    // PostgreSQL's SQLSTATE is always five characters; SQLite's codes,
    // extended ones included, are numbers of at most four digits.
    if code.len() == 5 {
        return matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "55P03");
    }
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

/// Create the table of an entity, if it does not exist.
pub async fn create_table<E: sea_orm::EntityTrait>(
    manager: &SchemaManager<'_>,
    entity: E,
) -> Result<(), DbErr> {
    let schema = Schema::new(manager.get_database_backend());
    manager
        .create_table(
            schema
                .create_table_from_entity(entity)
                .if_not_exists()
                .to_owned(),
        )
        .await
}

/// Create an index over `columns` of `table`.
pub async fn create_index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    columns: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table)).if_not_exists();
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[cfg(test)]
#[path = "tests/db.rs"]
mod tests;
