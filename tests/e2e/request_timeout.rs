//! A request that takes longer than `http.request_timeout_ms` is stopped and
//! answered 503 `timeout` with `Retry-After`, and what it was writing is
//! rolled back: a referral posted while another session holds intake's
//! `referrals` table locked (PostgreSQL), so the write waits on the lock. On
//! SQLite (another process holding the file) the write waits too, or is
//! answered "busy" at once: 503 `unavailable`, never a 500, and nothing
//! written either.

use pathway_common::auth::Role;
use pathway_intake::startup::Workers;
use pathway_tests::intake::TestApp;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};

/// How many referrals intake holds.
async fn referrals(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM referrals",
        ))
        .await
        .expect("count the referrals")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("a count")
}

/// Another session or process holding what a referral's write needs.
enum Lock {
    File(sqlx::SqliteConnection),
    Table(sea_orm::DatabaseTransaction),
}

impl Lock {
    async fn take(backend: &Backend, url: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let mut holder = sqlx::SqliteConnection::connect(url)
                    .await
                    .expect("a second connection opens intake's file");
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut holder)
                    .await
                    .expect("take the write lock");
                Self::File(holder)
            }
            Backend::Postgres(_) => {
                let db = Database::connect(url).await.expect("a second session");
                let txn = db.begin().await.expect("begin");
                txn.execute_unprepared("LOCK TABLE referrals IN ACCESS EXCLUSIVE MODE")
                    .await
                    .expect("lock the referrals");
                Self::Table(txn)
            }
        }
    }

    async fn release(self) {
        match self {
            Self::File(mut holder) => {
                sqlx::query("COMMIT")
                    .execute(&mut holder)
                    .await
                    .expect("release the lock");
                holder.close().await.ok();
            }
            Self::Table(txn) => txn.rollback().await.expect("release the lock"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_finish_is_stopped_and_changes_nothing() {
    for backend in backends().await {
        let name = backend.name();
        let app = TestApp::spawn_adjusted(&backend, Workers::default(), |settings| {
            settings.http.request_timeout_ms = 500;
        })
        .await;
        let switched = app
            .http
            .put(format!("{}/v1/boards/highland/pathway", app.base))
            .bearer_auth(app.token(Role::BoardAdmin, &["highland"]))
            .json(&serde_json::json!({"enabled": true, "reason": "test"}))
            .send()
            .await
            .expect("intake answers");
        assert_eq!(switched.status(), 200, "{name}");
        let referrer = app.token(Role::Referrer, &["highland"]);
        let post = || {
            app.http
                .post(format!("{}/v1/referrals", app.base))
                .bearer_auth(&referrer)
                .json(&valid_referral("highland"))
                .send()
        };

        let lock = Lock::take(&backend, &app.settings.database.url).await;
        let stopped = post().await.expect("intake answers");
        assert_eq!(stopped.status(), 503, "{name}");
        assert!(stopped.headers().contains_key("retry-after"), "{name}");
        let body: serde_json::Value = stopped.json().await.expect("a JSON answer");
        match backend {
            // The write waits on the lock until the time limit stops it.
            Backend::Postgres(_) => {
                assert_eq!(body["error"], "timeout", "{name}: {body}");
                assert!(
                    body["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("500 ms")),
                    "{body}"
                );
            }
            // SQLite either waits on the lock (its busy timeout is longer
            // than the limit) or, when the transaction read before it
            // wrote, answers "busy" at once: a fault that may heal.
            Backend::Sqlite => assert!(
                body["error"] == "timeout" || body["error"] == "unavailable",
                "{name}: {body}"
            ),
        }
        lock.release().await;

        // Nothing of the stopped request was kept; the next one goes through.
        assert_eq!(referrals(&app).await, 0, "{name}");
        let created = post().await.expect("intake answers");
        assert_eq!(created.status(), 201, "{name}");
        assert_eq!(referrals(&app).await, 1, "{name}");
    }
}
