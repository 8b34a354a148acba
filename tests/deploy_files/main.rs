//! `deploy/` checked against the services themselves, with no container
//! runtime: the image build (`Containerfile`), the compose file and the
//! Kubernetes manifests are parsed, and what each gives a service is loaded
//! as the service loads its settings.
//!
//! For every service, in compose and in Kubernetes:
//! - it runs a binary the image builds and copies, as the image's non-root
//!   user;
//! - every variable it is given is one its settings read (a key they would
//!   ignore fails, as does another service's prefix), layered over the
//!   image's `ENV` and the example of its secret `config.toml`;
//! - with those settings, `PATHWAY_PROFILE=production`'s check
//!   (`startup::check_production`) passes;
//! - every file a setting names (`…_FILE`, `PATHWAY_CONFIG`) is mounted from
//!   a secret or a config, and the secret `config.toml` has its example in
//!   `deploy/secrets.example/` (the files themselves are the board's and
//!   are not read: their contents are checked at start by the service);
//! - its port is its configured `http.port`, and the probes ask `/healthz`
//!   and `/readyz` on it, which the services' operational router answers.
//!
//! And the NATS nodes run `deploy/nats/cluster-node.conf` with
//! `accounts.conf`, under the names its routes give, with every service's
//! public nkey the accounts need.

mod compose;
mod given;
mod image;
mod kubernetes;
mod settings;
mod yaml;

use std::path::{Path, PathBuf};

/// The services, by the name of their binary and settings prefix.
const SERVICES: [&str; 5] = ["intake", "vetting", "decision", "notification", "analytics"];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The hosts of `deploy/nats/cluster-node.conf`'s routes.
fn nats_route_hosts() -> Vec<String> {
    read(&deploy_dir().join("nats/cluster-node.conf"))
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("nats-route://"))
        .map(|rest| rest.split(':').next().unwrap_or(rest).to_owned())
        .collect()
}

/// The variables `deploy/nats/accounts.conf` takes each user's nkey from.
fn nats_nkey_variables() -> Vec<String> {
    read(&deploy_dir().join("nats/accounts.conf"))
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once("nkey: $"))
        .map(|(_, name)| name.trim().to_owned())
        .collect()
}

#[test]
fn the_nats_configuration_names_three_nodes_and_a_user_per_service() {
    assert_eq!(
        nats_route_hosts(),
        ["pathway-nats-1", "pathway-nats-2", "pathway-nats-3"]
    );
    let expected: Vec<String> = SERVICES
        .iter()
        .map(|service| format!("PATHWAY_NATS_{}_NKEY", service.to_uppercase()))
        .collect();
    assert_eq!(nats_nkey_variables(), expected);
}

/// The probes' paths are routes of the operational router every service
/// merges into its own (`pathway_common::http::finish`), and an unknown
/// path is not.
#[tokio::test]
async fn the_probes_paths_are_answered_by_the_services_operational_routes() {
    let ready: pathway_common::http::ReadinessCheck =
        std::sync::Arc::new(|| Box::pin(async { Ok(()) }));
    let router = pathway_common::http::ops_routes(
        pathway_common::metrics::Metrics::new("deploy-files"),
        ready,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let address = listener.local_addr().expect("a bound listener");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut paths: Vec<String> = compose::services()
        .into_iter()
        .chain(kubernetes::services())
        .flat_map(|given| given.probes.into_iter().map(|probe| probe.path))
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths, ["/healthz", "/readyz"]);
    pathway_common::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    for path in paths.iter().map(String::as_str).chain(["/no-such-probe"]) {
        let status = client
            .get(format!("http://{address}{path}"))
            .send()
            .await
            .expect("the operational router answers")
            .status();
        assert_eq!(
            status.is_success(),
            path != "/no-such-probe",
            "{path} answered {status}"
        );
    }
}
