//! Unit tests of `information_request.rs`, on a real SQLite database: a
//! question is marked overdue once, never once answered, and a database made
//! before the mark existed gains it unset.

use chrono::{TimeDelta, Utc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;

use super::*;
use crate::store::Migrator;

async fn database() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    db
}

async fn question(db: &DatabaseConnection, id: &str, referral: &str) {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "INSERT INTO information_requests (id, referral_id, board, question, requested_by, \
             requested_at) VALUES ('{id}', '{referral}', 'fife', 'Any imaging?', 'dr-a', \
             '2026-01-05 10:00:00+00:00')"
        ),
    ))
    .await
    .expect("a question");
}

#[tokio::test]
async fn a_question_is_marked_overdue_once_and_never_once_answered() {
    let db = database().await;
    question(&db, "q-1", "r-1").await;
    question(&db, "q-2", "r-2").await;
    let now = Utc::now();
    mark_answered(&db, "q-2", now).await.expect("answered");
    let open = awaiting_answer(&db, ["r-1".to_owned(), "r-2".to_owned()])
        .await
        .expect("read");
    assert_eq!(
        open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["q-1"]
    );

    assert!(mark_overdue(&db, "q-1", now).await.expect("marks"));
    assert!(
        !mark_overdue(&db, "q-1", now + TimeDelta::hours(1))
            .await
            .expect("runs"),
        "once"
    );
    assert!(
        !mark_overdue(&db, "q-2", now).await.expect("runs"),
        "answered"
    );
    let kept = Entity::find_by_id("q-1")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.overdue_at, Some(now), "the first mark stays");
    assert!(
        awaiting_answer(&db, ["r-1".to_owned()])
            .await
            .expect("read")
            .is_empty()
    );
}

#[tokio::test]
async fn a_database_made_before_the_mark_gains_it_unset() {
    let db = database().await;
    let backend = db.get_database_backend();
    for sql in [
        "ALTER TABLE information_requests DROP COLUMN overdue_at",
        "DELETE FROM seaql_migrations WHERE version = 'm0007_information_requests_overdue'",
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .expect(sql);
    }
    question(&db, "q-1", "r-1").await;
    Migrator::up(&db, None).await.expect("m0007 applies");
    let open = awaiting_answer(&db, ["r-1".to_owned()])
        .await
        .expect("read");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].overdue_at, None);
    assert!(mark_overdue(&db, "q-1", Utc::now()).await.expect("marks"));
}
