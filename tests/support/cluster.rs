//! A three-node NATS cluster on loopback, and service instances that die
//! whole, for the chaos test.
//!
//! [`NatsCluster`] starts three clustered `nats-server` processes (plain
//! TCP, one account, JetStream on a file store in a temporary folder with
//! `sync_interval: always`, as `deploy/nats/cluster-node.conf` sets it). A
//! node can be SIGKILLed ([`NatsCluster::kill`]) and started again on the
//! same ports and store ([`NatsCluster::restart`]). Services get the three
//! URLs and three stream replicas ([`NatsCluster::settings`]).
//!
//! [`Instance`] runs one service instance on a Tokio runtime of its own, so
//! that [`Instance::kill`] drops everything the instance runs at once (its
//! HTTP server, consumers, relay, sweeps, and the tasks they spawned, its
//! NATS and database connections) as a process killed mid-flight would lose
//! it; [`Instance::start`] starts it again on the same settings.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pathway_common::settings::NatsSettings;
use pathway_common::startup::{Application, Service, Workers};
use tokio_util::sync::CancellationToken;

use crate::{free_port, nats_binary};

/// How many nodes the cluster has.
pub const NODES: usize = 3;

struct Node {
    client_port: u16,
    monitor_port: u16,
    config: PathBuf,
    log: PathBuf,
    process: Option<Child>,
}

impl Node {
    // The watchdog outlives the test on purpose: it reaps the server if the
    // test binary dies without dropping it.
    #[allow(clippy::zombie_processes)]
    fn spawn(&mut self) {
        let child = Command::new(nats_binary())
            .arg("-c")
            .arg(&self.config)
            .arg("-l")
            .arg(&self.log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let watchdog = format!(
            "while kill -0 {test} 2>/dev/null && kill -0 {server} 2>/dev/null; do sleep 0.5; done; \
             kill -0 {test} 2>/dev/null || kill -9 {server} 2>/dev/null",
            test = std::process::id(),
            server = child.id(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchdog starts");
        self.process = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            // `Child::kill` is SIGKILL on Unix: no goodbye to the cluster.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the node answers `/healthz` with 200: it listens, and its
    /// JetStream is current with the cluster.
    async fn healthy(&self, http: &reqwest::Client) -> bool {
        http.get(format!("http://127.0.0.1:{}/healthz", self.monitor_port))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

/// Three `nats-server` nodes clustered on loopback.
pub struct NatsCluster {
    nodes: Vec<Node>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Start three nodes and wait until each is healthy.
    pub async fn start() -> Self {
        pathway_common::tls::install_crypto_provider();
        let dir = tempfile::tempdir().expect("a temporary folder for the cluster");
        let ports: Vec<(u16, u16, u16)> = (0..NODES)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, route, _)| format!("nats-route://127.0.0.1:{route}"))
            .collect();
        let mut nodes = Vec::new();
        for (i, &(client_port, route_port, monitor_port)) in ports.iter().enumerate() {
            let node_dir = dir.path().join(format!("node-{}", i + 1));
            std::fs::create_dir_all(&node_dir).expect("a folder per node");
            let config = node_config(
                i + 1,
                &node_dir,
                client_port,
                route_port,
                monitor_port,
                &routes,
            );
            let config_path = node_dir.join("nats.conf");
            std::fs::write(&config_path, config).expect("write the node's config");
            let mut node = Node {
                client_port,
                monitor_port,
                config: config_path,
                log: node_dir.join("nats.log"),
                process: None,
            };
            node.spawn();
            nodes.push(node);
        }
        let cluster = Self {
            nodes,
            http: reqwest::Client::new(),
            _dir: dir,
        };
        for node in 0..NODES {
            cluster.wait_until_healthy(node).await;
        }
        cluster
    }

    /// The three client URLs, comma-separated, as `NatsSettings.url` takes them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What a service connects with: every node, the stream on all three.
    pub fn settings(&self) -> NatsSettings {
        NatsSettings {
            url: self.urls(),
            replicas: NODES,
            ..NatsSettings::default()
        }
    }

    /// SIGKILL node `node` (0-based).
    pub fn kill(&mut self, node: usize) {
        self.nodes[node].kill();
    }

    /// Start node `node` again on its ports and its store, and wait until
    /// it is healthy (caught up with the others).
    pub async fn restart(&mut self, node: usize) {
        self.nodes[node].kill();
        self.nodes[node].spawn();
        self.wait_until_healthy(node).await;
    }

    /// Wait (at most 60 s) until node `node` answers `/healthz` with 200.
    pub async fn wait_until_healthy(&self, node: usize) {
        let started = Instant::now();
        while !self.nodes[node].healthy(&self.http).await {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "NATS node {} did not become healthy:\n{}",
                node + 1,
                self.log(node)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Node `node`'s log so far.
    pub fn log(&self, node: usize) -> String {
        std::fs::read_to_string(&self.nodes[node].log).unwrap_or_default()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
    }
}

/// One node's configuration: `deploy/nats/cluster-node.conf`'s JetStream and
/// cluster blocks, on loopback, without TLS or per-service users.
fn node_config(
    number: usize,
    dir: &Path,
    client_port: u16,
    route_port: u16,
    monitor_port: u16,
    routes: &[String],
) -> String {
    let store = dir.join("js").display().to_string();
    format!(
        "server_name: chaos-nats-{number}\n\
         listen: 127.0.0.1:{client_port}\n\
         http: 127.0.0.1:{monitor_port}\n\
         jetstream {{\n  store_dir: {store:?}\n  sync_interval: always\n  \
         max_memory_store: 64MB\n  max_file_store: 1GB\n}}\n\
         cluster {{\n  name: chaos\n  listen: 127.0.0.1:{route_port}\n  routes: [\n    {}\n  ]\n}}\n",
        routes.join("\n    ")
    )
}

/// One instance of service `S` on a runtime of its own.
pub struct Instance<S: Service> {
    pub settings: S::Settings,
    pub workers: Workers,
    /// `http://127.0.0.1:<port>` of the running instance (a new port after
    /// each start).
    pub base: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl<S: Service> Instance<S>
where
    S::Settings: Clone + Send + 'static,
{
    /// Build and serve the service with `settings`, retrying (for at most
    /// 60 s) while what it needs at start-up (NATS, its database) is away.
    pub async fn start(settings: S::Settings, workers: Workers) -> Self {
        let mut instance = Self {
            settings,
            workers,
            base: String::new(),
            runtime: None,
        };
        instance.restart().await;
        instance
    }

    /// Whether the instance is running (not killed).
    pub fn is_running(&self) -> bool {
        self.runtime.is_some()
    }

    /// Kill the instance where it stands: every task it runs is dropped at
    /// its next step, every connection it holds is closed.
    pub fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Kill it if it runs, then start it again on the same settings.
    pub async fn restart(&mut self) {
        self.kill();
        let started = Instant::now();
        loop {
            let settings = self.settings.clone();
            let workers = self.workers;
            let built =
                tokio::task::spawn_blocking(move || start_on_own_runtime::<S>(settings, workers))
                    .await
                    .expect("the start-up thread ends");
            match built {
                Ok((runtime, port)) => {
                    self.runtime = Some(runtime);
                    self.base = format!("http://127.0.0.1:{port}");
                    return;
                }
                Err(error) => {
                    assert!(
                        started.elapsed() < Duration::from_secs(60),
                        "{} did not start again within 60 s: {error:#}",
                        S::NAME
                    );
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }
}

impl<S: Service> Drop for Instance<S> {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn start_on_own_runtime<S: Service>(
    settings: S::Settings,
    workers: Workers,
) -> anyhow::Result<(tokio::runtime::Runtime, u16)> {
    pathway_common::telemetry::init_for_tests();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(S::NAME)
        .enable_all()
        .build()?;
    let port = runtime.block_on(async {
        let application = Application::<S>::build_with(settings, workers).await?;
        let port = application.port();
        tokio::spawn(application.run_until_stopped(CancellationToken::new()));
        anyhow::Ok(port)
    });
    match port {
        Ok(port) => Ok((runtime, port)),
        Err(error) => {
            runtime.shutdown_background();
            Err(error)
        }
    }
}
