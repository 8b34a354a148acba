//! `deploy/compose.yaml`, with the variables of `deploy/compose.env.example`
//! standing in for the board's `.env` and `deploy/secrets.example/` for its
//! `secrets/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_norway::Value;

use crate::given::{Given, Probe};
use crate::image::image;
use crate::settings::Env;
use crate::yaml::{at, hosts, port_and_path, seq_at, text, text_at, texts_at};
use crate::{SERVICES, deploy_dir, nats_nkey_variables, nats_route_hosts, read};

/// The compose file, its `<<` merges applied, and the variables it is
/// interpolated with.
struct Compose {
    file: Value,
    variables: Env,
}

fn compose() -> Compose {
    let mut file: Value =
        serde_norway::from_str(&read(&deploy_dir().join("compose.yaml"))).expect("compose.yaml");
    file.apply_merge().expect("compose.yaml's merges");
    let variables = read(&deploy_dir().join("compose.env.example"))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').expect("KEY=value");
            (key.to_owned(), value.to_owned())
        })
        .collect();
    Compose { file, variables }
}

/// `text` with compose's interpolation: `$$`, `${NAME}`, `${NAME:-default}`
/// and `${NAME:?message}` (an error when `variables` lacks it).
fn interpolate(text: &str, variables: &Env) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some(inner_start) = rest.strip_prefix('{') else {
            return Err(format!("{text:?}: write $$ for a literal $, or ${{NAME}}"));
        };
        let end = inner_start
            .find('}')
            .ok_or_else(|| format!("{text:?}: unclosed ${{"))?;
        let inner = &inner_start[..end];
        rest = &inner_start[end + 1..];
        let name_end = inner.find([':', '-', '?']).unwrap_or(inner.len());
        let (name, modifier) = inner.split_at(name_end);
        let value = variables.get(name).filter(|value| !value.is_empty());
        let modifier = modifier.strip_prefix(':').unwrap_or(modifier);
        match (value, modifier.chars().next()) {
            (Some(value), _) => out.push_str(value),
            (None, Some('-')) => out.push_str(&modifier[1..]),
            (None, Some('?')) => {
                return Err(format!(
                    "{name} is required ({}) and not in compose.env.example",
                    &modifier[1..]
                ));
            }
            (None, _) => return Err(format!("{name} is not in compose.env.example")),
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl Compose {
    fn service(&self, name: &str) -> &Value {
        at(&self.file, &format!("services.{name}"))
            .unwrap_or_else(|| panic!("compose.yaml has no service {name}"))
    }

    fn text(&self, value: &Value) -> String {
        let raw = text(value).unwrap_or_default();
        interpolate(&raw, &self.variables).unwrap_or_else(|error| panic!("compose.yaml: {error}"))
    }

    /// The file a top-level secret or config is made from, as the example
    /// that stands in for it here.
    fn example_of(&self, kind: &str, source: &str) -> Option<PathBuf> {
        let file = at(&self.file, &format!("{kind}.{source}.file"))?;
        let file = self.text(file);
        let file = file.strip_prefix("./").unwrap_or(&file);
        Some(match file.strip_prefix("secrets/") {
            Some(rest) => deploy_dir().join("secrets.example").join(rest),
            None => deploy_dir().join(file),
        })
    }

    /// The files `service` mounts (secrets and configs), by path.
    fn files(&self, service: &Value) -> BTreeMap<PathBuf, Option<PathBuf>> {
        let mut files = BTreeMap::new();
        for (kind, default_dir) in [("secrets", "/run/secrets"), ("configs", "")] {
            for entry in seq_at(service, kind) {
                let (source, target) = match entry {
                    Value::String(source) => (source.clone(), source.clone()),
                    _ => {
                        let source = text_at(entry, "source").expect("a source");
                        let target = text_at(entry, "target").unwrap_or_else(|| source.clone());
                        (source, target)
                    }
                };
                let path = if target.starts_with('/') {
                    PathBuf::from(target)
                } else {
                    PathBuf::from(default_dir).join(target)
                };
                files.insert(path, self.example_of(kind, &source));
            }
        }
        files
    }

    fn given(&self, name: &str) -> Given {
        let service = self.service(name);
        let env = at(service, "environment")
            .and_then(Value::as_mapping)
            .map(|mapping| {
                mapping
                    .iter()
                    .map(|(key, value)| (text(key).unwrap_or_default(), self.text(value)))
                    .collect()
            })
            .unwrap_or_default();
        let probes = texts_at(service, "healthcheck.test")
            .iter()
            .filter_map(|word| port_and_path(word))
            .map(|(port, path)| Probe {
                kind: "healthcheck",
                path,
                port,
            })
            .collect();
        Given {
            origin: format!("compose.yaml service {name}"),
            service: name.to_owned(),
            command: texts_at(service, "command"),
            replicas: at(service, "deploy.replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1),
            env,
            files: self.files(service),
            ports: texts_at(service, "expose")
                .iter()
                .filter_map(|port| port.parse().ok())
                .collect(),
            probes,
        }
    }
}

/// What compose.yaml gives each service.
pub fn services() -> Vec<Given> {
    let compose = compose();
    SERVICES.iter().map(|name| compose.given(name)).collect()
}

#[test]
fn compose_runs_two_instances_of_each_service_as_production_requires() {
    let image = image();
    let compose = compose();
    let mut problems = Vec::new();
    for name in SERVICES {
        let given = compose.given(name);
        problems.extend(given.problems(&image));
        if given
            .probes
            .iter()
            .map(|probe| probe.path.as_str())
            .ne(["/healthz"])
        {
            problems.push(format!(
                "{name}'s healthcheck is not /healthz: {:?}",
                given.probes
            ));
        }
        let service = compose.service(name);
        if at(service, "read_only").and_then(Value::as_bool) != Some(true) {
            problems.push(format!("{name}'s root filesystem is writable"));
        }
        let mut waits_for: Vec<String> = at(service, "depends_on")
            .and_then(Value::as_mapping)
            .map(|mapping| mapping.keys().filter_map(text).collect())
            .unwrap_or_default();
        waits_for.sort();
        let mut expected = nats_route_hosts();
        expected.push("postgres".into());
        // Only intake may create the streams: the others start after it.
        if name != "intake" {
            expected.push("intake".into());
        }
        expected.sort();
        if waits_for != expected {
            problems.push(format!("{name} waits for {waits_for:?}, not {expected:?}"));
        }
        let servers = given.env.get("PATHWAY_NATS__URL").map(|urls| hosts(urls));
        if servers != Some(nats_route_hosts()) {
            problems.push(format!(
                "{name} connects to {servers:?}, not the cluster's nodes"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn compose_runs_the_nats_cluster_on_deploy_nats_and_a_database_per_service() {
    let compose = compose();
    let node_files: Vec<String> = read(&deploy_dir().join("nats/cluster-node.conf"))
        .lines()
        .filter_map(|line| line.trim().split_once("_file: "))
        .map(|(_, path)| path.trim_matches('"').to_owned())
        .collect();
    assert!(node_files.len() >= 3, "{node_files:?}");
    for host in nats_route_hosts() {
        let node = compose.service(&host);
        assert_eq!(text_at(node, "hostname"), Some(host.clone()));
        let command = texts_at(node, "command").join(" ");
        assert!(
            command.contains("--config /etc/nats/cluster-node.conf")
                && command.ends_with(&format!("--name {host}")),
            "{host} runs {command}"
        );
        let volumes = texts_at(node, "volumes");
        for file in ["cluster-node.conf", "accounts.conf"] {
            let mount = format!("./nats/{file}:/etc/nats/{file}:ro");
            assert!(
                volumes.contains(&mount),
                "{host} lacks {mount}: {volumes:?}"
            );
        }
        let files = compose.files(node);
        for file in &node_files {
            assert!(
                files.contains_key(&PathBuf::from(file)),
                "{host} lacks {file}"
            );
        }
        for variable in nats_nkey_variables() {
            let value = text_at(node, &format!("environment.{variable}"))
                .map(|value| compose.text(&Value::String(value)));
            assert!(
                value.as_deref().is_some_and(|value| value.starts_with('U')),
                "{host}: {variable} is {value:?}"
            );
        }
    }

    let postgres = compose.service("postgres");
    let script = text_at(&compose.file, "configs.postgres-databases.content").expect("init");
    for name in SERVICES {
        assert!(
            script.contains(&format!(" {name}")),
            "the database script forgets {name}"
        );
        assert!(
            texts_at(postgres, "secrets").contains(&format!("{name}-db-password")),
            "postgres is not given {name}'s password"
        );
        let config = read(&deploy_dir().join(format!("secrets.example/{name}/config.toml")));
        let url = format!("postgres://{name}:CHANGE-ME@postgres:5432/{name}");
        assert!(
            config.contains(&url),
            "{name}'s example database URL is not {url}"
        );
    }
}

#[test]
fn interpolation_is_read_as_compose_reads_it() {
    let variables: Env = [("SET".to_owned(), "value".to_owned())].into();
    assert_eq!(
        interpolate("a${SET}b$${SET}${UNSET:-dflt}", &variables),
        Ok("avalueb${SET}dflt".to_owned())
    );
    assert!(interpolate("${UNSET:?needed}", &variables).is_err());
    assert!(interpolate("${UNSET}", &variables).is_err());
    assert!(interpolate("$SET", &variables).is_err());
}
