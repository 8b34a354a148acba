//! NATS locked down as production runs it, for the tests that prove it.
//!
//! [`Pki`] makes a CA at test time (rcgen) and signs with it a certificate
//! for the nodes (`127.0.0.1`, server and client use, as routes need) and a
//! client certificate per service. [`LockedNats`] starts one `nats-server`
//! on a free port with TLS for clients (mutual) and Pathway's account and
//! users from `deploy/nats/accounts.conf` — the very file, linked beside
//! the test's config — each service's public nkey in the server's
//! environment as production sets it, its seed in a file ([`Keys`]). [`Cluster`] starts three nodes from
//! `deploy/nats/cluster-node.conf` itself, changed only where the file says
//! a copy changes (name, ports, routes, store, certificates), so the routes
//! run over TLS as production's do.
//!
//! Every server is stopped when its value is dropped, and by a watchdog when
//! the test binary exits however it exits; its log stays in its folder and
//! is shown when it does not start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pathway_common::settings::NatsSettings;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::{free_port, nats_binary};

/// The services `deploy/nats/accounts.conf` has a user for.
pub const SERVICES: [&str; 5] = ["intake", "vetting", "decision", "notification", "analytics"];

/// `deploy/nats/` in this checkout.
pub fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/nats")
}

/// A CA of the test's and what it signed, as PEM files in one folder.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A new CA, the nodes' certificate and each service's, in `dir`.
    pub fn create(dir: &Path) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names to parse");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params
            .distinguished_name
            .push(DnType::CommonName, "Pathway NATS test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key pair"))
            .expect("a self-signed CA");
        let pki = Self {
            dir: dir.to_owned(),
        };
        write(&pki.ca(), &ca.pem());
        let (cert, key) = pki.node();
        leaf(
            &ca,
            "pathway-nats",
            &["127.0.0.1", "localhost"],
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            (&cert, &key),
        );
        for service in SERVICES {
            let (cert, key) = pki.client(service);
            leaf(
                &ca,
                service,
                &[service],
                vec![ExtendedKeyUsagePurpose::ClientAuth],
                (&cert, &key),
            );
        }
        pki
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The nodes' certificate and key.
    pub fn node(&self) -> (PathBuf, PathBuf) {
        (self.dir.join("node.pem"), self.dir.join("node-key.pem"))
    }

    /// `service`'s client certificate and key.
    pub fn client(&self, service: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{service}.pem")),
            self.dir.join(format!("{service}-key.pem")),
        )
    }
}

fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    name: &str,
    names: &[&str],
    usages: Vec<ExtendedKeyUsagePurpose>,
    (cert_file, key_file): (&Path, &Path),
) {
    let mut params = CertificateParams::new(
        names
            .iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>(),
    )
    .expect("valid names");
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = usages;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().expect("a key pair");
    let cert = params.signed_by(&key, ca).expect("signed by the CA");
    write(cert_file, &cert.pem());
    write(key_file, &key.serialize_pem());
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// An nkey per service: the servers' environment holds each public key
/// (`PATHWAY_NATS_<SERVICE>_NKEY`), a file in the test's folder each seed,
/// as a deployment gives it to its service.
pub struct Keys {
    seeds: HashMap<&'static str, PathBuf>,
    public: HashMap<&'static str, String>,
}

impl Keys {
    fn create(dir: &Path) -> Self {
        let mut seeds = HashMap::new();
        let mut public = HashMap::new();
        for service in SERVICES {
            let key = nkeys::KeyPair::new_user();
            let path = dir.join(format!("{service}.nk"));
            write(&path, &key.seed().expect("a new key has a seed"));
            seeds.insert(service, path);
            public.insert(service, key.public_key());
        }
        Self { seeds, public }
    }

    /// The file holding `service`'s seed.
    pub fn seed_file(&self, service: &str) -> PathBuf {
        self.seeds
            .get(service)
            .cloned()
            .unwrap_or_else(|| panic!("{service} has no NATS user in deploy/nats/accounts.conf"))
    }

    /// `service`'s public key, the name the servers log it by.
    pub fn public_key(&self, service: &str) -> &str {
        self.public
            .get(service)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{service} has no NATS user in deploy/nats/accounts.conf"))
    }

    fn environment(&self) -> impl Iterator<Item = (String, &str)> {
        self.public.iter().map(|(service, key)| {
            (
                format!("PATHWAY_NATS_{}_NKEY", service.to_uppercase()),
                key.as_str(),
            )
        })
    }
}

/// A running `nats-server`, stopped on drop.
struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    // The watchdog outlives the test on purpose: it reaps the server if the
    // test binary dies without dropping it.
    #[allow(clippy::zombie_processes)]
    fn spawn(config: &Path, keys: &Keys, log: PathBuf) -> Self {
        let child = Command::new(nats_binary())
            .arg("-c")
            .arg(config)
            .arg("-l")
            .arg(&log)
            .envs(keys.environment())
            .stdout(Stdio::null())
            // What it says before its log is open (a config it refuses).
            .stderr(std::fs::File::create(log.with_extension("stderr")).expect("a file for stderr"))
            .spawn()
            .expect("nats-server starts");
        let watchdog = format!(
            "while kill -0 {test} 2>/dev/null && kill -0 {server} 2>/dev/null; do sleep 0.5; done; \
             kill -0 {test} 2>/dev/null || kill {server} 2>/dev/null",
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
        Self { child, log }
    }

    /// Wait until the server listens on `port`; its log if it does not.
    fn wait_for(&mut self, port: u16) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > Duration::from_secs(20) {
                panic!(
                    "nats-server did not start on port {port} ({exited:?}):\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        format!(
            "{}{}",
            read(&self.log.with_extension("stderr")),
            read(&self.log)
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `deploy/nats/accounts.conf`, linked into `dir` for a config there to
/// include as `./accounts.conf`.
fn link_accounts(dir: &Path) {
    std::os::unix::fs::symlink(
        deploy_dir().join("accounts.conf"),
        dir.join("accounts.conf"),
    )
    .expect("link deploy/nats/accounts.conf");
}

/// The settings `service` connects with to the server at `url`: its own
/// nkey, its client certificate, the test CA, and its own reply inbox (the
/// test's own connection beside it uses it too).
fn service_settings(pki: &Pki, keys: &Keys, url: String, service: &str) -> NatsSettings {
    let (cert, key) = pki.client(service);
    NatsSettings {
        url,
        nkey_seed_file: Some(keys.seed_file(service)),
        require_tls: true,
        tls_ca_file: Some(pki.ca()),
        tls_client_cert_file: Some(cert),
        tls_client_key_file: Some(key),
        inbox_prefix: Some(format!("_INBOX_{service}")),
        ..NatsSettings::default()
    }
}

/// One `nats-server` with TLS for clients (mutual) and JetStream, whose
/// users are `deploy/nats/accounts.conf`'s.
pub struct LockedNats {
    pub pki: Pki,
    pub keys: Keys,
    port: u16,
    process: ServerProcess,
    _dir: tempfile::TempDir,
}

impl LockedNats {
    pub fn start() -> Self {
        pathway_common::tls::install_crypto_provider();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let pki = Pki::create(dir.path());
        let keys = Keys::create(dir.path());
        let port = free_port();
        link_accounts(dir.path());
        let (cert, key) = pki.node();
        let config = format!(
            "server_name: pathway-lockdown\n\
             listen: 127.0.0.1:{port}\n\
             tls {{\n  cert_file: {cert:?}\n  key_file: {key:?}\n  ca_file: {ca:?}\n  verify: true\n  timeout: 2\n}}\n\
             jetstream {{ store_dir: {store:?}, max_memory_store: 64MB, max_file_store: 1GB }}\n\
             include ./accounts.conf\n",
            cert = cert.display().to_string(),
            key = key.display().to_string(),
            ca = pki.ca().display().to_string(),
            store = dir.path().join("js").display().to_string(),
        );
        let config_path = dir.path().join("nats.conf");
        write(&config_path, &config);
        let mut process = ServerProcess::spawn(&config_path, &keys, dir.path().join("nats.log"));
        process.wait_for(port);
        Self {
            pki,
            keys,
            port,
            process,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `tls://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// What `service` connects with: its own user over mutual TLS.
    pub fn settings(&self, service: &str) -> NatsSettings {
        service_settings(&self.pki, &self.keys, self.url(), service)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// One node of a [`Cluster`].
pub struct Node {
    pub client_port: u16,
    pub route_port: u16,
    pub monitor_port: u16,
    process: ServerProcess,
}

/// Three nodes, each from `deploy/nats/cluster-node.conf`.
pub struct Cluster {
    pub pki: Pki,
    pub keys: Keys,
    pub nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start() -> Self {
        const NODES: usize = 3;
        pathway_common::tls::install_crypto_provider();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let pki = Pki::create(dir.path());
        let keys = Keys::create(dir.path());
        let template = std::fs::read_to_string(deploy_dir().join("cluster-node.conf"))
            .expect("deploy/nats/cluster-node.conf is there");
        let ports: Vec<(u16, u16, u16)> = (0..NODES)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let (cert, key) = pki.node();
        let mut nodes = Vec::new();
        for (i, &(client_port, route_port, monitor_port)) in ports.iter().enumerate() {
            let node_dir = dir.path().join(format!("node-{}", i + 1));
            std::fs::create_dir_all(&node_dir).expect("a folder per node");
            link_accounts(&node_dir);
            let store = node_dir.join("js").display().to_string();
            let mut changes = vec![
                (
                    "server_name: pathway-nats-1".to_owned(),
                    format!("server_name: pathway-nats-{}", i + 1),
                ),
                (
                    "listen: 0.0.0.0:4222".to_owned(),
                    format!("listen: 127.0.0.1:{client_port}"),
                ),
                (
                    "http: 127.0.0.1:8222".to_owned(),
                    format!("http: 127.0.0.1:{monitor_port}"),
                ),
                (
                    "listen: 0.0.0.0:6222".to_owned(),
                    format!("listen: 127.0.0.1:{route_port}"),
                ),
                (
                    "store_dir: /var/lib/nats".to_owned(),
                    format!("store_dir: {store:?}"),
                ),
                (
                    "max_file_store: 200GB".to_owned(),
                    "max_file_store: 1GB".to_owned(),
                ),
                (
                    "\"/etc/nats/tls/node.pem\"".to_owned(),
                    format!("{:?}", cert.display().to_string()),
                ),
                (
                    "\"/etc/nats/tls/node-key.pem\"".to_owned(),
                    format!("{:?}", key.display().to_string()),
                ),
                (
                    "\"/etc/nats/tls/ca.pem\"".to_owned(),
                    format!("{:?}", pki.ca().display().to_string()),
                ),
            ];
            for (j, &(_, peer_route, _)) in ports.iter().enumerate() {
                changes.push((
                    format!("nats-route://pathway-nats-{}:6222", j + 1),
                    format!("nats-route://127.0.0.1:{peer_route}"),
                ));
            }
            let mut config = template.clone();
            for (from, to) in changes {
                assert!(
                    config.contains(&from),
                    "deploy/nats/cluster-node.conf no longer has {from:?}: change the test with it"
                );
                config = config.replace(&from, &to);
            }
            let config_path = node_dir.join("nats.conf");
            write(&config_path, &config);
            let process = ServerProcess::spawn(&config_path, &keys, node_dir.join("nats.log"));
            nodes.push(Node {
                client_port,
                route_port,
                monitor_port,
                process,
            });
        }
        for node in &mut nodes {
            node.process.wait_for(node.client_port);
        }
        Self {
            pki,
            keys,
            nodes,
            _dir: dir,
        }
    }

    /// What `service` connects to node `node` (0-based) with.
    pub fn settings(&self, node: usize, service: &str) -> NatsSettings {
        service_settings(
            &self.pki,
            &self.keys,
            format!("tls://127.0.0.1:{}", self.nodes[node].client_port),
            service,
        )
    }

    /// Node `node`'s log so far.
    pub fn log(&self, node: usize) -> String {
        self.nodes[node].process.log()
    }
}
