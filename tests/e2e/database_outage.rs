//! A service's own database away, then back, while events arrive for it.
//!
//! The decision service runs with every worker `main` starts (consumer,
//! relay, sweep). While its database is away, the vetting outcomes sent to
//! it wait out the fault: nak'd with back-off and without a delivery limit,
//! counted in `pathway_inbox_waiting{consumer="decision"}`, never
//! dead-lettered. Once the database is back, each outcome becomes exactly one
//! decision, one inbox row and one `decision.recorded`, and the alert falls.
//!
//! The fault is a real one on each backend:
//! - PostgreSQL: the service's database refuses connections
//!   (`ALLOW_CONNECTIONS false`, its sessions terminated). `/readyz` and the
//!   dead-letter list answer 503, the list with `Retry-After`.
//! - SQLite: another connection holds the file's write lock
//!   (`BEGIN EXCLUSIVE`). Each write waits out SQLite's busy timeout (5 s)
//!   and fails; reads still answer (WAL), so `/readyz` stays 200 and the
//!   dead-letter list answers, empty (each once the service's one SQLite
//!   connection is free, which can take that busy timeout).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use pathway_common::auth::Role;
use pathway_common::inbox::entity as inbox;
use pathway_decision::application::Decisions;
use pathway_decision::consumer::DURABLE;
use pathway_decision::settings::Settings;
use pathway_decision::startup::Workers;
use pathway_decision::store::decision;
use pathway_proto::v1::{Event, Payload, Priority};
use pathway_tests::decision::{accept, new_referral, vetting_completed};
use pathway_tests::running::{Common, Running};
use pathway_tests::{Backend, backends, eventually};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::Value;

/// At least this long away: many back-off rounds on PostgreSQL (the old
/// limit of five deliveries took about 3 s).
const OUTAGE: Duration = Duration::from_secs(8);

/// Vetting outcomes sent while the database is away.
const DURING: usize = 4;

type App = Running<Decisions>;

/// The decision service with every worker `main` starts, its sweep every
/// second so that it too meets the outage.
async fn spawn(backend: &Backend) -> App {
    let common = Common::alone(backend).await;
    let settings = Settings {
        http: common.http,
        database: common.database,
        nats: common.nats,
        auth: common.auth,
        opt_in_sweep_seconds: 1,
        ..Settings::default()
    };
    Running::start(settings, Workers::default(), common.dir).await
}

/// The database made unavailable by a real fault, until [`Outage::end`].
enum Outage {
    /// PostgreSQL refusing every connection to the service's database.
    Refused {
        admin: DatabaseConnection,
        name: String,
    },
    /// Another connection holding SQLite's write lock on the file.
    Locked(sqlx::SqliteConnection),
}

impl Outage {
    async fn begin(backend: &Backend, url: &str) -> Self {
        match backend {
            Backend::Postgres(admin_url) => {
                let name = database_name(url);
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("PostgreSQL answers the admin connection");
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
                    ))
                    .await
                    .expect("refuse connections to the service's database");
                admin
                    .execute_unprepared(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                    ))
                    .await
                    .expect("end the service's sessions");
                Self::Refused { admin, name }
            }
            Backend::Sqlite => {
                let mut holder = sqlx::SqliteConnection::connect(url)
                    .await
                    .expect("a second connection opens the service's SQLite file");
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut holder)
                    .await
                    .expect("take the write lock");
                Self::Locked(holder)
            }
        }
    }

    async fn end(self) {
        match self {
            Self::Refused { admin, name } => {
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
                    ))
                    .await
                    .expect("allow connections again");
                admin.close().await.ok();
            }
            Self::Locked(mut holder) => {
                sqlx::query("COMMIT")
                    .execute(&mut holder)
                    .await
                    .expect("release the write lock");
                holder.close().await.ok();
            }
        }
    }
}

/// The database's name: the last segment of the URL's path.
fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    let name = path.rsplit('/').next().unwrap_or_default();
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "a plain database name in {url}"
    );
    name.to_owned()
}

/// `GET <path>` with `token` when given: the status, `Retry-After`, the body.
async fn get(app: &App, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("decision answers HTTP");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

/// The value of `pathway_<name>` for the decision consumer whose other
/// labels include `labels` (0 when the series is absent).
async fn metric(app: &App, name: &str, labels: &str) -> f64 {
    let consumer = format!("consumer=\"{DURABLE}\"");
    app.metric(name, &[consumer.as_str(), labels]).await
}

async fn waiting(app: &App) -> f64 {
    metric(app, "inbox_waiting", "").await
}

async fn outcomes(app: &App, outcome: &str) -> f64 {
    metric(
        app,
        "inbox_messages_total",
        &format!("outcome=\"{outcome}\""),
    )
    .await
}

/// The vetting events behind the decision rows, one entry per row.
async fn decided(app: &App) -> Vec<String> {
    decision::Entity::find()
        .all(&app.db)
        .await
        .expect("read decisions")
        .into_iter()
        .map(|row| row.vetting_event_id)
        .collect()
}

/// The events the consumer's inbox recorded, one entry per row.
async fn inbox_rows(app: &App) -> Vec<String> {
    inbox::Entity::find()
        .filter(inbox::Column::Consumer.eq(DURABLE))
        .all(&app.db)
        .await
        .expect("read the inbox")
        .into_iter()
        .map(|row| row.event_id)
        .collect()
}

/// The referrals of the `decision.recorded` events on the stream, one entry each.
async fn recorded(app: &App) -> Vec<String> {
    app.stream_events()
        .await
        .into_iter()
        .filter(|e| matches!(e.event.payload, Some(Payload::DecisionRecorded(_))))
        .map(|e| e.event.referral_id)
        .collect()
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort_unstable();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_out_a_database_outage_and_are_each_applied_once_it_is_back() {
    for backend in backends().await {
        let name = backend.name();
        let mut app = spawn(&backend).await;
        let operator = app.token(Role::BoardAdmin, &["*"]);
        let outcome = |referral: &str| {
            vetting_completed("highland", referral, accept(Priority::Routine), false)
        };

        // Working before the outage.
        let before = outcome(&new_referral());
        app.send(&before).await;
        let handled = eventually(Duration::from_secs(10), || async {
            (decided(&app).await.len() == 1).then_some(())
        })
        .await;
        assert!(handled.is_some(), "{name}: the first outcome is decided");
        assert_eq!(get(&app, "/readyz", None).await.0, 200, "{name}");
        assert_eq!(waiting(&app).await, 0.0, "{name}: nothing waits before");

        // The database goes away; outcomes keep arriving.
        let outage = Outage::begin(&backend, &app.settings.database.url).await;
        let started = Instant::now();
        let during: Vec<Event> = (0..DURING).map(|_| outcome(&new_referral())).collect();
        for event in &during {
            app.send(event).await;
        }
        let mut sent: Vec<String> = during.iter().map(|e| e.event_id.clone()).collect();
        sent.push(before.event_id.clone());
        let sent = sorted(sent);

        // The alert rises: on PostgreSQL every outcome fails at once; on
        // SQLite one write at a time waits out the busy timeout and fails.
        let (rises_to, min_retries) = match backend {
            Backend::Postgres(_) => (DURING as f64, 5.0 * DURING as f64),
            Backend::Sqlite => (1.0, 2.0),
        };
        let risen = eventually(Duration::from_secs(20), || async {
            (waiting(&app).await >= rises_to).then_some(())
        })
        .await;
        assert!(risen.is_some(), "{name}: {} waiting", waiting(&app).await);

        let (ready, _, reason) = get(&app, "/readyz", None).await;
        let (listed, retry_after, dead) = get(&app, "/v1/dead-letters", Some(&operator)).await;
        match backend {
            Backend::Postgres(_) => {
                assert_eq!(
                    ready, 503,
                    "{name}: not ready without its database: {reason}"
                );
                assert_eq!(listed, 503, "{name}: {dead}");
                assert_eq!(dead["error"], "unavailable", "{name}: {dead}");
                let seconds = retry_after.as_deref().and_then(|s| s.parse::<u32>().ok());
                assert!(
                    seconds.is_some_and(|s| s > 0),
                    "{name}: Retry-After {retry_after:?}"
                );
            }
            Backend::Sqlite => {
                // Reads still answer under another writer's lock.
                assert_eq!(ready, 200, "{name}: {reason}");
                assert_eq!(listed, 200, "{name}: {dead}");
                assert_eq!(
                    dead["dead_letters"],
                    serde_json::json!([]),
                    "{name}: {dead}"
                );
            }
        }

        // Away for longer than a few back-off rounds.
        let tried = eventually(Duration::from_secs(30), || async {
            (started.elapsed() >= OUTAGE && outcomes(&app, "retrying").await >= min_retries)
                .then_some(())
        })
        .await;
        assert!(
            tried.is_some(),
            "{name}: {} retries",
            outcomes(&app, "retrying").await
        );
        assert!(waiting(&app).await >= rises_to, "{name}: still waiting");
        assert_eq!(outcomes(&app, "dead_lettered").await, 0.0, "{name}");
        assert_eq!(
            outcomes(&app, "handled").await,
            1.0,
            "{name}: only the first"
        );
        outage.end().await;

        // Back: every outcome is applied, once.
        let applied = eventually(Duration::from_secs(45), || async {
            (decided(&app).await.len() > DURING).then_some(())
        })
        .await;
        assert!(
            applied.is_some(),
            "{name}: {} of {} outcomes decided",
            decided(&app).await.len(),
            DURING + 1
        );
        let fallen = eventually(Duration::from_secs(10), || async {
            (waiting(&app).await == 0.0).then_some(())
        })
        .await;
        assert!(
            fallen.is_some(),
            "{name}: {} still waiting",
            waiting(&app).await
        );
        let referrals: BTreeSet<String> = during
            .iter()
            .chain([&before])
            .map(|e| e.referral_id.clone())
            .collect();
        let published = eventually(Duration::from_secs(10), || async {
            let found = recorded(&app).await;
            (found.len() > DURING).then_some(found)
        })
        .await;
        assert!(
            published.is_some(),
            "{name}: every decision.recorded published"
        );

        // Nothing more comes later.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sorted(decided(&app).await),
            sent,
            "{name}: one decision per outcome"
        );
        assert_eq!(
            sorted(inbox_rows(&app).await),
            sent,
            "{name}: one inbox row per outcome"
        );
        let published = recorded(&app).await;
        assert_eq!(published.len(), DURING + 1, "{name}: {published:?}");
        assert_eq!(
            published.into_iter().collect::<BTreeSet<_>>(),
            referrals,
            "{name}: one decision.recorded per referral"
        );
        assert_eq!(
            outcomes(&app, "handled").await,
            (DURING + 1) as f64,
            "{name}"
        );
        assert_eq!(outcomes(&app, "dead_lettered").await, 0.0, "{name}");
        assert!(
            app.dead_letters().await.is_empty(),
            "{name}: none for the outage"
        );
        let ready = eventually(Duration::from_secs(10), || async {
            (get(&app, "/readyz", None).await.0 == 200).then_some(())
        })
        .await;
        assert!(
            ready.is_some(),
            "{name}: {:?}",
            get(&app, "/readyz", None).await
        );
        let (listed, _, dead) = get(&app, "/v1/dead-letters", Some(&operator)).await;
        assert_eq!(listed, 200, "{name}: {dead}");
        assert_eq!(
            dead["dead_letters"],
            serde_json::json!([]),
            "{name}: {dead}"
        );

        app.stop().await;
    }
}
