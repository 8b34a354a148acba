//! Chaos: the whole pathway on a three-node NATS cluster (the stream on all
//! three, `sync_interval: always`) with two instances of every service on
//! PostgreSQL, while one NATS node at a time is SIGKILLed and random service
//! instances are killed, then each is started again.
//!
//! Referrals are posted to either intake (with an `Idempotency-Key`, sent
//! again to the other instance when the answer is lost), vetted by an
//! automated clinician over either vetting's API (claim, then the outcome),
//! decided, notified to the local Notify stand-in and the GP's webhook
//! receiver, and counted in analytics. Service instances run in this test's
//! process, each on a Tokio runtime of its own: killing one drops that
//! runtime at once, every task, connection and transaction it held
//! ([`pathway_tests::cluster::Instance`]); NATS nodes are real processes,
//! killed with SIGKILL.
//!
//! Once the faults stop and the pathway settles (a bounded wait), a checker
//! counts, as Jepsen's queue checker does:
//! - **lost**: a referral intake acknowledged (201) without its decision,
//!   every delivery planned for it taken by the gateway or the GP, and its
//!   analytics fact decided and notified;
//! - **duplicated**: a second decision for a referral, a second message to
//!   the same recipient on the same channel about the same referral, a
//!   referral counted twice in analytics' metrics;
//! - **unexpected**: a decision, a message at the far end or a decided fact
//!   about a referral nobody posted, a message no delivery accounts for.
//!
//! All three must be 0. `make test` runs a small one (30 referrals);
//! `CHAOS_REFERRALS` and `CHAOS_SECONDS` make it long (`make chaos`), and
//! `CHAOS_SEED` replays a run's choice of faults.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use pathway_analytics::application::Analytics;
use pathway_common::auth::Role;
use pathway_common::startup::Workers;
use pathway_decision::application::Decisions;
use pathway_intake::application::Intake;
use pathway_notification::application::Notifications;
use pathway_tests::cluster::{Instance, NODES, NatsCluster};
use pathway_tests::pathway::Prepared;
use pathway_tests::referrals::valid_referral;
use pathway_tests::{Backend, backends};
use pathway_vetting::application::Vetting;
use rand::{Rng as _, SeedableRng as _};
use sea_orm::Database;
use serde_json::{Value, json};

use checker::Observer;

mod checker;

const BOARD: &str = "highland";

/// Messages each accepted referral brings: an SMS to the patient and a
/// webhook to the GP.
const DELIVERIES: usize = 2;

/// The size of a run, from the environment.
struct Size {
    referrals: usize,
    /// Faults go on at least this long, and while referrals are driven.
    fault_seconds: u64,
    /// How many referrals are driven at once.
    concurrency: usize,
    /// How long the pathway may take to settle once the faults stop.
    settle: Duration,
    seed: u64,
}

impl Size {
    fn from_env() -> Self {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let referrals = number("CHAOS_REFERRALS").unwrap_or(30) as usize;
        Self {
            referrals,
            fault_seconds: number("CHAOS_SECONDS").unwrap_or(20),
            concurrency: if referrals > 100 { 16 } else { 6 },
            settle: Duration::from_secs(60 + referrals as u64 / 10),
            seed: number("CHAOS_SEED").unwrap_or_else(|| rand::rng().random()),
        }
    }
}

/// Two instances of every service.
struct Services {
    intake: [Instance<Intake>; 2],
    vetting: [Instance<Vetting>; 2],
    decision: [Instance<Decisions>; 2],
    notification: [Instance<Notifications>; 2],
    analytics: [Instance<Analytics>; 2],
}

const INSTANCES: usize = 10;

impl Services {
    fn name(which: usize) -> String {
        let service = ["intake", "vetting", "decision", "notification", "analytics"][which / 2];
        format!("{service}#{}", which % 2 + 1)
    }

    fn kill(&mut self, which: usize) {
        let i = which % 2;
        match which / 2 {
            0 => self.intake[i].kill(),
            1 => self.vetting[i].kill(),
            2 => self.decision[i].kill(),
            3 => self.notification[i].kill(),
            _ => self.analytics[i].kill(),
        }
    }

    async fn restart(&mut self, which: usize) {
        let i = which % 2;
        match which / 2 {
            0 => self.intake[i].restart().await,
            1 => self.vetting[i].restart().await,
            2 => self.decision[i].restart().await,
            3 => self.notification[i].restart().await,
            _ => self.analytics[i].restart().await,
        }
    }

    /// The HTTP bases the clients use: intake's and vetting's.
    fn bases(&self) -> Bases {
        Bases {
            intake: self.intake.iter().map(|i| i.base.clone()).collect(),
            vetting: self.vetting.iter().map(|i| i.base.clone()).collect(),
        }
    }
}

#[derive(Clone, Default)]
struct Bases {
    intake: Vec<String>,
    vetting: Vec<String>,
}

/// What the clients share with the fault task.
struct Clients {
    http: reqwest::Client,
    bases: Mutex<Bases>,
    referrer: String,
    clinician: String,
    /// How long one referral's client keeps trying.
    patience: Duration,
}

impl Clients {
    fn base(&self, service: &str, attempt: usize) -> String {
        let bases = self.bases.lock().expect("the bases").clone();
        let list = if service == "intake" {
            bases.intake
        } else {
            bases.vetting
        };
        list[attempt % list.len()].clone()
    }

    /// POST a referral until an intake acknowledges it: its id, or `None`
    /// when no answer came in time. An answer lost with a killed instance
    /// is asked again of the other under the same `Idempotency-Key`.
    async fn refer(&self, n: usize) -> Option<String> {
        let body = valid_referral(BOARD);
        let key = format!("chaos-{}", uuid::Uuid::new_v4());
        let started = Instant::now();
        for attempt in n.. {
            if started.elapsed() > self.patience {
                return None;
            }
            let answer = self
                .http
                .post(format!("{}/v1/referrals", self.base("intake", attempt)))
                .bearer_auth(&self.referrer)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            if let Ok(response) = answer
                && response.status() == 201
                && let Ok(created) = response.json::<Value>().await
                && let Some(id) = created["id"].as_str()
            {
                return Some(id.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }

    /// Claim and record an outcome for `id` through either vetting, until
    /// its detail shows the outcome; whether it did in time.
    async fn vet(&self, id: &str, n: usize) -> bool {
        let started = Instant::now();
        let outcome = json!({
            "outcome": "accept",
            "priority": "routine",
            "mode": "video",
            "rationale": "Persistent pain despite physiotherapy: the clinic should see her."
        });
        for attempt in n.. {
            if started.elapsed() > self.patience {
                return false;
            }
            let base = self.base("vetting", attempt);
            let claimed = self
                .http
                .post(format!("{base}/v1/referrals/{id}/claim"))
                .bearer_auth(&self.clinician)
                .send()
                .await;
            if claimed.is_ok_and(|r| r.status() == 200) {
                let recorded = self
                    .http
                    .post(format!("{base}/v1/referrals/{id}/outcome"))
                    .bearer_auth(&self.clinician)
                    .json(&outcome)
                    .send()
                    .await;
                if recorded.is_ok_and(|r| r.status() == 201) {
                    return true;
                }
            }
            // The outcome may be recorded though its answer was lost.
            let detail = self
                .http
                .get(format!("{base}/v1/referrals/{id}"))
                .bearer_auth(&self.clinician)
                .send()
                .await;
            if let Ok(response) = detail
                && response.status() == 200
                && let Ok(detail) = response.json::<Value>().await
                && detail["outcomes"].as_array().is_some_and(|o| !o.is_empty())
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_duplicated_or_made_up_while_nodes_and_instances_die() {
    let Some(backend) = backends()
        .await
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)))
    else {
        eprintln!(
            "skipped: no PostgreSQL answers; the chaos test runs two instances of every \
             service, which share a database only on PostgreSQL"
        );
        return;
    };
    let size = Size::from_env();
    eprintln!(
        "chaos: {} referrals, faults for at least {} s, seed {} (CHAOS_SEED replays it)",
        size.referrals, size.fault_seconds, size.seed
    );
    let mut cluster = NatsCluster::start().await;

    // Intake first, alone, to create the stream on three replicas, switch
    // the board on, and hand its settings to the others.
    let prepared = Prepared::on(&backend, Some(cluster.settings()), BOARD).await;
    let referrer = prepared.token("test-referrer", Role::Referrer, BOARD, None);
    let clinician = prepared.token("dr-chaos", Role::Clinician, BOARD, Some("Dr Chaos".into()));
    let evaluator = prepared.token("evaluator", Role::Evaluator, BOARD, None);
    let (gateway, receiver) = (&prepared.gateway, &prepared.receiver);

    let workers = Workers::default();
    let services = Services {
        intake: [
            Instance::start(prepared.intake.clone(), workers).await,
            Instance::start(prepared.intake.clone(), workers).await,
        ],
        vetting: [
            Instance::start(prepared.vetting.clone(), workers).await,
            Instance::start(prepared.vetting.clone(), workers).await,
        ],
        decision: [
            Instance::start(prepared.decision.clone(), workers).await,
            Instance::start(prepared.decision.clone(), workers).await,
        ],
        notification: [
            Instance::start(prepared.notification.clone(), workers).await,
            Instance::start(prepared.notification.clone(), workers).await,
        ],
        analytics: [
            Instance::start(prepared.analytics.clone(), workers).await,
            Instance::start(prepared.analytics.clone(), workers).await,
        ],
    };
    let clients = Arc::new(Clients {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client"),
        bases: Mutex::new(services.bases()),
        referrer,
        clinician,
        patience: Duration::from_secs(90).max(Duration::from_secs(size.fault_seconds)),
    });
    let services = Arc::new(tokio::sync::Mutex::new(services));

    // The faults: one at a time, a NATS node or a service instance, killed
    // and started again, until the referrals are driven and the time is up.
    let driving = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let faults = {
        let services = services.clone();
        let clients = clients.clone();
        let driving = driving.clone();
        let fault_for = Duration::from_secs(size.fault_seconds);
        let mut rng = rand::rngs::StdRng::seed_from_u64(size.seed);
        tokio::spawn(async move {
            let started = Instant::now();
            let mut log = Vec::new();
            while driving.load(std::sync::atomic::Ordering::SeqCst) || started.elapsed() < fault_for
            {
                tokio::time::sleep(Duration::from_millis(rng.random_range(500..1500))).await;
                let down = Duration::from_millis(rng.random_range(200..2000));
                // Every third fault a NATS node, the others a service instance.
                if log.len() % 3 == 0 {
                    let node = rng.random_range(0..NODES);
                    cluster.kill(node);
                    log.push(format!("nats-{}", node + 1));
                    tokio::time::sleep(down).await;
                    cluster.restart(node).await;
                } else {
                    let which = rng.random_range(0..INSTANCES);
                    let mut services = services.lock().await;
                    services.kill(which);
                    log.push(Services::name(which));
                    tokio::time::sleep(down).await;
                    services.restart(which).await;
                    *clients.bases.lock().expect("the bases") = services.bases();
                }
            }
            (cluster, log)
        })
    };

    // The referrals, a few at a time.
    let started = Instant::now();
    let pace = Duration::from_secs(size.fault_seconds) / size.referrals.max(1) as u32;
    let results: Vec<(Option<String>, bool)> = futures::stream::iter(0..size.referrals)
        .map(|n| {
            let clients = clients.clone();
            // The referrals spread over the time the faults go on for.
            let at = started + pace * n as u32;
            async move {
                tokio::time::sleep_until(at.into()).await;
                let id = clients.refer(n).await;
                let vetted = match &id {
                    Some(id) => clients.vet(id, n).await,
                    None => false,
                };
                (id, vetted)
            }
        })
        .buffer_unordered(size.concurrency)
        .collect()
        .await;
    driving.store(false, std::sync::atomic::Ordering::SeqCst);
    let (cluster, log) = match faults.await {
        Ok(ended) => ended,
        Err(error) => {
            let why = match error.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
                Err(error) => error.to_string(),
            };
            tell(&format!(
                "the fault task failed (seed {}): {why}",
                size.seed
            ));
            panic!("the fault task failed: {why}");
        }
    };
    let driven = started.elapsed();
    let acked: BTreeSet<String> = results.iter().filter_map(|(id, _)| id.clone()).collect();
    let unacknowledged = results.iter().filter(|(id, _)| id.is_none()).count();
    let unvetted = results
        .iter()
        .filter(|(id, vetted)| id.is_some() && !vetted)
        .count();
    eprintln!(
        "chaos: {} faults in {:.0?} ({}); {} acknowledged, {unacknowledged} not, {unvetted} not vetted in time",
        log.len(),
        driven,
        log.join(" "),
        acked.len()
    );

    // Settle, then check, with a last look a moment later so that a late
    // second copy shows.
    let connect = |url: String| async move {
        Database::connect(url.as_str())
            .await
            .expect("the test reads the service's database")
    };
    let services_guard = services.lock().await;
    let observer = Observer {
        decision: connect(services_guard.decision[0].settings.database.url.clone()).await,
        notification: connect(services_guard.notification[0].settings.database.url.clone()).await,
        analytics: connect(services_guard.analytics[0].settings.database.url.clone()).await,
        analytics_base: services_guard.analytics[0].base.clone(),
        evaluator,
        intake_base: services_guard.intake[0].base.clone(),
        referrer: clients.referrer.clone(),
        http: clients.http.clone(),
    };
    drop(services_guard);
    let deadline = Instant::now() + size.settle;
    let mut counts = observer.check(&acked, gateway, receiver).await;
    while counts.lost > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        counts = observer.check(&acked, gateway, receiver).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = observer.check(&acked, gateway, receiver).await;
    println!(
        "chaos: referrals {} acknowledged {} faults {} lost {} duplicated {} unexpected {} (webhooks resent in doubt, dropped by the receiver: {})",
        size.referrals,
        acked.len(),
        log.len(),
        counts.lost,
        counts.duplicated,
        counts.unexpected,
        counts.repeats
    );
    for detail in counts.details.iter().take(50) {
        eprintln!("  {detail}");
    }
    // Not one of the three counts: intake's own view of each referral's
    // status, which should have reached `notified`.
    let statuses = observer.intake_statuses(&acked).await;
    let behind = acked.len() - statuses.get("notified").copied().unwrap_or(0);
    eprintln!("chaos: statuses at intake {statuses:?} ({behind} behind)");
    let verdict = format!(
        "lost {} duplicated {} unexpected {}, {unacknowledged} not acknowledged, {unvetted} not \
         vetted, after {} faults ({}), seed {}; intake's statuses {statuses:?}; {}",
        counts.lost,
        counts.duplicated,
        counts.unexpected,
        log.len(),
        log.join(" "),
        size.seed,
        counts
            .details
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    );
    if (
        counts.lost,
        counts.duplicated,
        counts.unexpected,
        unacknowledged,
        unvetted,
    ) != (0, 0, 0, 0, 0)
        || log.is_empty()
    {
        tell(&verdict);
    }
    assert!(!log.is_empty(), "faults were injected");
    assert_eq!(
        (counts.lost, counts.duplicated, counts.unexpected),
        (0, 0, 0),
        "lost, duplicated, unexpected (seed {})",
        size.seed
    );
    assert_eq!(
        unacknowledged, 0,
        "every referral acknowledged by intake in time"
    );
    assert_eq!(unvetted, 0, "every referral vetted in time");
    drop(cluster);
}

/// Say why the run failed straight on the test binary's standard error, not
/// through the output the test harness captures and prints after the whole
/// binary has run, so that a log that shows only the lines around a test's
/// result still shows the reason.
fn tell(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "chaos failed: {why}");
}

/// `NatsSettings.url` may list several servers: a service connects through
/// whichever answers, here the second, the first having nothing listening.
#[tokio::test]
async fn a_service_connects_through_any_server_of_its_list() {
    let live = pathway_tests::nats_account_url();
    let (head, port) = live.rsplit_once(':').expect("a URL with a port");
    let dead = format!("{head}:{}", pathway_tests::free_port());
    assert_ne!(
        port,
        dead.rsplit_once(':').map(|(_, p)| p).unwrap_or_default()
    );
    let settings = pathway_common::settings::NatsSettings {
        url: format!("{dead},{live}"),
        ..Default::default()
    };
    let client = tokio::time::timeout(
        Duration::from_secs(20),
        pathway_common::bus::connect(&settings, "intake"),
    )
    .await
    .expect("connected within 20 s")
    .expect("a list of servers is taken");
    let connected = pathway_tests::eventually(Duration::from_secs(10), || async {
        (client.connection_state() == async_nats::connection::State::Connected).then_some(())
    })
    .await;
    assert!(connected.is_some(), "connected to the live server");
    client.flush().await.expect("the live server answers");
}
