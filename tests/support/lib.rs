//! The test harness: real parts only.
//!
//! - One `nats-server` per test binary, on a free port, with JetStream and
//!   100 accounts: each test takes an account of its own, so tests share the
//!   server but never a stream or a consumer. A watchdog stops the server when
//!   the test binary exits.
//! - A fresh SQLite file per test, and a fresh PostgreSQL database per test
//!   whenever one answers at `DATABASE_URL` (or the local default): database
//!   tests run once per backend ([`backends`]).
//! - [`locked_nats`]: NATS as production locks it down (`deploy/nats/`),
//!   TLS and one nkey per service, for the tests that prove it.
//! - [`cluster`]: three clustered NATS nodes on loopback, one killed and
//!   restarted at a time, and service instances killed whole, for chaos.
//! - [`pathway`]: every service at once, each on a runtime of its own,
//!   sending to local stand-ins for Notify and the GP's system.
//! - Each service's `TestApp` runs its real `Application` on port 0: a
//!   [`running::Running`] with the service's own helpers around it;
//!   [`scale_out`] starts more instances of one on the same database.

pub mod analytics;
pub mod browser;
pub mod cli;
pub mod cluster;
pub mod decision;
pub mod intake;
pub mod locked_nats;
pub mod notification;
pub mod pathway;
pub mod referrals;
pub mod running;
pub mod scale_out;
pub mod vetting;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

const ACCOUNTS: usize = 1000;

struct NatsServer {
    port: u16,
    next_account: AtomicUsize,
    _dir: tempfile::TempDir,
}

pub(crate) fn nats_binary() -> PathBuf {
    if let Ok(path) = std::env::var("NATS_SERVER") {
        return PathBuf::from(path);
    }
    // Find (or install) one the way the Makefile does.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(root.join("scripts/nats-server.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/nats-server.sh runs: it finds or installs nats-server");
    assert!(
        output.status.success(),
        "no nats-server 2.10+ could be found or installed"
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out a free port")
}

// The server and its watchdog outlive every test on purpose: the watchdog
// reaps the server when the test binary exits.
#[allow(clippy::zombie_processes)]
fn server() -> &'static NatsServer {
    static SERVER: OnceLock<NatsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder for JetStream");
        let port = free_port();
        let mut config = format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {:?}, max_memory_store: 256MB, max_file_store: 4GB }}\naccounts {{\n",
            dir.path().join("js").display().to_string()
        );
        for i in 0..ACCOUNTS {
            config.push_str(&format!("  T{i}: {{ jetstream: enabled, users: [{{user: t{i}, password: t{i}}}] }}\n"));
        }
        config.push_str("}\n");
        let config_path = dir.path().join("nats.conf");
        std::fs::write(&config_path, config).expect("write the nats-server config");
        let child = Command::new(nats_binary())
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        // Stop the server when this test binary exits, however it exits.
        let watchdog = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill {} 2>/dev/null",
            std::process::id(),
            child.id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchdog starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "nats-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        NatsServer {
            port,
            next_account: AtomicUsize::new(0),
            _dir: dir,
        }
    })
}

/// A NATS URL for an account of its own (its own streams and consumers).
pub fn nats_account_url() -> String {
    let server = server();
    let account = server.next_account.fetch_add(1, Ordering::SeqCst);
    assert!(
        account < ACCOUNTS,
        "more than {ACCOUNTS} tests in one binary: raise ACCOUNTS"
    );
    format!("nats://t{account}:t{account}@127.0.0.1:{}", server.port)
}

/// A database the test may use.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A fresh, empty database URL for one test.
    pub async fn fresh_url(&self, dir: &std::path::Path) -> String {
        match self {
            Backend::Sqlite => format!("sqlite://{}/test.db", dir.display()),
            Backend::Postgres(admin) => {
                let now = chrono::Utc::now().timestamp();
                let name = format!("pathway_test_{now}_{}", uuid::Uuid::new_v4().simple());
                let db = Database::connect(admin.as_str())
                    .await
                    .expect("PostgreSQL answered a moment ago");
                drop_stale_databases(&db, now).await;
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create a test database");
                db.close().await.ok();
                replace_database(admin, &name)
            }
        }
    }
}

/// Test databases are left for inspection after a run; those over an hour
/// old are dropped by the next run.
async fn drop_stale_databases(db: &sea_orm::DatabaseConnection, now: i64) {
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ONCE.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(rows) = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'pathway_test_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0);
        if now - created > 3600 {
            let _ = db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |j| j + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// SQLite always; PostgreSQL too when one answers.
pub async fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if let Some(url) = postgres_url().await {
        out.push(Backend::Postgres(url));
    }
    out
}

async fn postgres_url() -> Option<String> {
    static CHECKED: OnceLock<Option<String>> = OnceLock::new();
    if let Some(answer) = CHECKED.get() {
        return answer.clone();
    }
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let answer =
        match tokio::time::timeout(Duration::from_secs(3), Database::connect(url.as_str())).await {
            Ok(Ok(db)) => {
                let ok = db.execute_unprepared("SELECT 1").await.is_ok();
                db.close().await.ok();
                ok.then_some(url)
            }
            _ => None,
        };
    if answer.is_none() {
        eprintln!("note: no PostgreSQL answers; database tests run on SQLite only");
    }
    CHECKED.get_or_init(|| answer).clone()
}

/// A token for `role` on `boards`, signed with the local key a test stack
/// shares, valid for an hour; `name` is what pages show.
pub fn signed_token(
    authenticator: &pathway_common::auth::Authenticator,
    subject: &str,
    role: pathway_common::auth::Role,
    boards: &[&str],
    name: Option<String>,
) -> String {
    let mut claims = pathway_common::auth::Claims::new(
        subject,
        role,
        boards.iter().map(|b| (*b).to_owned()).collect(),
        Duration::from_secs(3600),
    );
    claims.name = name;
    authenticator.issue(&claims).expect("sign a test token")
}

/// Poll `check` until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Poll `read` until it finds at least `count` things, for at most `limit`:
/// what it found then, or, on time-out, what it found last.
pub async fn at_least<T, F, Fut>(
    limit: Duration,
    count: usize,
    mut read: F,
) -> Result<Vec<T>, Vec<T>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Vec<T>>,
{
    let started = Instant::now();
    loop {
        let found = read().await;
        if found.len() >= count {
            return Ok(found);
        }
        if started.elapsed() > limit {
            return Err(found);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// One event read back from the pathway stream.
pub struct StreamedEvent {
    pub subject: String,
    pub headers: Option<async_nats::HeaderMap>,
    pub raw: Vec<u8>,
    pub event: pathway_proto::v1::Event,
}

/// Every message on the pathway stream of the account `jetstream` talks to, in order.
pub async fn stream_events(jetstream: &async_nats::jetstream::Context) -> Vec<StreamedEvent> {
    use prost::Message as _;
    let mut stream = jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .expect("the pathway stream exists");
    let last = stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence;
    let mut out = Vec::new();
    for sequence in 1..=last {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            let raw = message.payload.to_vec();
            out.push(StreamedEvent {
                subject: message.subject.to_string(),
                headers: Some(message.headers),
                event: pathway_proto::v1::Event::decode(raw.as_slice())
                    .expect("every message on the stream is an Event"),
                raw,
            });
        }
    }
    out
}
