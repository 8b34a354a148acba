//! Fresh empty databases for unit tests of the store code: SQLite always,
//! and PostgreSQL when one answers at `DATABASE_URL` or the local default (a
//! database of its own each time, dropped afterwards).

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// A fresh empty database of each backend that answers.
pub struct Databases {
    pub dbs: Vec<(&'static str, DatabaseConnection)>,
    postgres: Option<(DatabaseConnection, String)>,
}

impl Databases {
    pub async fn fresh() -> Self {
        let mut options = ConnectOptions::new("sqlite::memory:");
        // One connection: each in-memory connection is a database of its own.
        options.max_connections(1).sqlx_logging(false);
        let sqlite = Database::connect(options).await.expect("SQLite opens");
        let mut dbs = vec![("sqlite", sqlite)];
        let mut postgres = None;
        if let Some((admin, url)) = postgres_admin().await {
            let name = format!("common_test_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create a database");
            let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
            let db = Database::connect(format!("{base}/{name}"))
                .await
                .expect("the new database opens");
            dbs.push(("postgres", db));
            postgres = Some((admin, name));
        }
        Self { dbs, postgres }
    }

    pub async fn drop(self) {
        for (_, db) in self.dbs {
            db.close().await.ok();
        }
        if let Some((admin, name)) = self.postgres {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .ok();
        }
    }
}

/// The URL of the PostgreSQL database that answers, if one does.
pub async fn postgres_url() -> Option<String> {
    postgres_admin().await.map(|(_, url)| url)
}

async fn postgres_admin() -> Option<(DatabaseConnection, String)> {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let db = tokio::time::timeout(Duration::from_secs(3), Database::connect(url.as_str()))
        .await
        .ok()?
        .ok()?;
    db.execute_unprepared("SELECT 1").await.ok()?;
    Some((db, url))
}
