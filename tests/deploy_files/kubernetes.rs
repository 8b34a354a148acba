//! `deploy/kubernetes/`, as `deploy/kustomization.yaml` puts it together,
//! with `deploy/secrets.example/<service>/` standing in for the board's
//! Secret `pathway-<service>`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;
use serde_norway::Value;

use crate::given::{Given, Probe};
use crate::image::image;
use crate::settings::Env;
use crate::yaml::{at, hosts, seq_at, text, text_at, texts_at};
use crate::{SERVICES, deploy_dir, nats_route_hosts, read};

/// Every object of the manifests, and the ConfigMaps kustomize generates
/// (name → key → file).
struct Manifests {
    objects: Vec<Value>,
    generated: BTreeMap<String, BTreeMap<String, PathBuf>>,
}

fn manifests() -> Manifests {
    let kustomization: Value =
        serde_norway::from_str(&read(&deploy_dir().join("kustomization.yaml")))
            .expect("kustomization.yaml");
    let listed: BTreeSet<String> = texts_at(&kustomization, "resources").into_iter().collect();
    let present: BTreeSet<String> = std::fs::read_dir(deploy_dir().join("kubernetes"))
        .expect("deploy/kubernetes")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("kubernetes/{name}"))
        .collect();
    assert_eq!(listed, present, "kustomization.yaml lists every manifest");

    let mut objects = Vec::new();
    for resource in &listed {
        let text = read(&deploy_dir().join(resource));
        for document in serde_norway::Deserializer::from_str(&text) {
            let object = Value::deserialize(document).unwrap_or_else(|e| panic!("{resource}: {e}"));
            if !object.is_null() {
                objects.push(object);
            }
        }
    }
    let mut generated = BTreeMap::new();
    for generator in seq_at(&kustomization, "configMapGenerator") {
        let name = text_at(generator, "name").expect("a generated ConfigMap's name");
        let mut files = BTreeMap::new();
        for file in texts_at(generator, "files") {
            let (key, path) = file
                .split_once('=')
                .unwrap_or_else(|| (file.rsplit('/').next().unwrap_or(&file), file.as_str()));
            let path = deploy_dir().join(path);
            assert!(
                path.is_file(),
                "{name} is made from {}, missing",
                path.display()
            );
            files.insert(key.to_owned(), path);
        }
        generated.insert(name, files);
    }
    Manifests { objects, generated }
}

impl Manifests {
    fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects.iter().find(|object| {
            text_at(object, "kind").as_deref() == Some(kind)
                && text_at(object, "metadata.name").as_deref() == Some(name)
        })
    }

    fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name)
            .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
    }

    /// The files a pod's container mounts, by path, with the file in this
    /// repository that shows what each holds.
    fn files(
        &self,
        pod: &Value,
        container: &Value,
        service: &str,
    ) -> BTreeMap<PathBuf, Option<PathBuf>> {
        let mut files = BTreeMap::new();
        for mount in seq_at(container, "volumeMounts") {
            let name = text_at(mount, "name").unwrap_or_default();
            let dir = PathBuf::from(text_at(mount, "mountPath").unwrap_or_default());
            let Some(volume) = seq_at(pod, "volumes")
                .iter()
                .find(|volume| text_at(volume, "name") == Some(name.clone()))
            else {
                continue;
            };
            let (source, items) = if let Some(secret) = at(volume, "secret") {
                (
                    ("secret", text_at(secret, "secretName")),
                    seq_at(secret, "items"),
                )
            } else if let Some(config_map) = at(volume, "configMap") {
                (
                    ("configMap", text_at(config_map, "name")),
                    seq_at(config_map, "items"),
                )
            } else {
                continue;
            };
            for item in items {
                let key = text_at(item, "key").unwrap_or_default();
                let path = dir.join(text_at(item, "path").unwrap_or_default());
                let example = match &source {
                    ("secret", Some(secret)) if *secret == format!("pathway-{service}") => Some(
                        deploy_dir()
                            .join("secrets.example")
                            .join(service)
                            .join(&key),
                    ),
                    ("configMap", Some(name)) => self
                        .generated
                        .get(name)
                        .and_then(|files| files.get(&key))
                        .cloned(),
                    _ => None,
                };
                files.insert(path, example);
            }
        }
        files
    }

    /// The environment a container gets from its ConfigMaps and its own list.
    fn env(&self, container: &Value, origin: &str) -> Env {
        let mut env = Env::new();
        for source in seq_at(container, "envFrom") {
            let name = text_at(source, "configMapRef.name").expect("envFrom a ConfigMap");
            let config_map = self.get("ConfigMap", &name);
            if let Some(data) = at(config_map, "data").and_then(Value::as_mapping) {
                for (key, value) in data {
                    env.insert(
                        text(key).unwrap_or_default(),
                        text(value).unwrap_or_default(),
                    );
                }
            }
        }
        for variable in seq_at(container, "env") {
            let name = text_at(variable, "name").unwrap_or_default();
            let value = text_at(variable, "value").unwrap_or_else(|| {
                panic!("{origin}: {name} has no value (secrets go in config.toml)")
            });
            env.insert(name, value);
        }
        env
    }

    fn given(&self, name: &str) -> Given {
        let deployment = self.get("Deployment", name);
        let pod = at(deployment, "spec.template.spec").expect("a pod template");
        let containers = seq_at(pod, "containers");
        assert_eq!(containers.len(), 1, "{name} runs one container");
        let container = &containers[0];
        let origin = format!("kubernetes Deployment {name}");
        let named_ports: BTreeMap<String, u16> = seq_at(container, "ports")
            .iter()
            .filter_map(|port| {
                Some((
                    text_at(port, "name")?,
                    at(port, "containerPort")?.as_u64()? as u16,
                ))
            })
            .collect();
        let probes = [
            ("startupProbe", "startup"),
            ("livenessProbe", "liveness"),
            ("readinessProbe", "readiness"),
        ]
        .into_iter()
        .filter_map(|(key, kind)| {
            let get = at(container, &format!("{key}.httpGet"))?;
            let port = text_at(get, "port")?;
            Some(Probe {
                kind,
                path: text_at(get, "path")?,
                port: named_ports
                    .get(&port)
                    .copied()
                    .or_else(|| port.parse().ok())?,
            })
        })
        .collect();
        Given {
            env: self.env(container, &origin),
            origin,
            service: name.to_owned(),
            command: texts_at(container, "command"),
            replicas: at(deployment, "spec.replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1),
            files: self.files(pod, container, name),
            ports: named_ports.values().copied().collect(),
            probes,
        }
    }
}

/// What the manifests give each service.
pub fn services() -> Vec<Given> {
    let manifests = manifests();
    SERVICES.iter().map(|name| manifests.given(name)).collect()
}

fn labels(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_mapping)
        .map(|mapping| {
            mapping
                .iter()
                .filter_map(|(key, value)| Some((text(key)?, text(value)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `selector` picks pods labelled `pod`.
fn selects(selector: Option<&Value>, pod: &BTreeMap<String, String>) -> bool {
    let selector = labels(selector);
    !selector.is_empty()
        && selector
            .iter()
            .all(|(key, value)| pod.get(key) == Some(value))
}

#[test]
fn kubernetes_runs_two_replicas_of_each_service_as_production_requires() {
    let image = image();
    let uid = image.uid().expect("the image's numeric user");
    let manifests = manifests();
    let mut problems = Vec::new();
    for name in SERVICES {
        let given = manifests.given(name);
        problems.extend(given.problems(&image));
        let probes: Vec<(&str, &str)> = given
            .probes
            .iter()
            .map(|probe| (probe.kind, probe.path.as_str()))
            .collect();
        for expected in [("liveness", "/healthz"), ("readiness", "/readyz")] {
            if !probes.contains(&expected) {
                problems.push(format!(
                    "{name}: no {} probe on {}: {probes:?}",
                    expected.0, expected.1
                ));
            }
        }
        let deployment = manifests.get("Deployment", name);
        let pod = at(deployment, "spec.template.spec").expect("a pod template");
        let container = &seq_at(pod, "containers")[0];
        for resource in [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
        ] {
            if text_at(container, &format!("resources.{resource}")).is_none() {
                problems.push(format!("{name}: no resources.{resource}"));
            }
        }
        let checks = [
            (
                at(pod, "securityContext.runAsNonRoot").and_then(Value::as_bool) == Some(true),
                "runAsNonRoot",
            ),
            (
                at(pod, "securityContext.runAsUser").and_then(Value::as_u64) == Some(uid),
                "runAsUser is the image's",
            ),
            (
                at(container, "securityContext.readOnlyRootFilesystem").and_then(Value::as_bool)
                    == Some(true),
                "readOnlyRootFilesystem",
            ),
            (
                at(container, "securityContext.allowPrivilegeEscalation").and_then(Value::as_bool)
                    == Some(false),
                "no privilege escalation",
            ),
        ];
        for (holds, what) in checks {
            if !holds {
                problems.push(format!("{name}: not {what}"));
            }
        }
        let pod_labels = labels(at(deployment, "spec.template.metadata.labels"));
        if !selects(at(deployment, "spec.selector.matchLabels"), &pod_labels) {
            problems.push(format!("{name}: the Deployment does not select its pods"));
        }
        match manifests.find("Service", name) {
            None => problems.push(format!("{name}: no Service")),
            Some(service) => {
                if !selects(at(service, "spec.selector"), &pod_labels) {
                    problems.push(format!("{name}: the Service does not select its pods"));
                }
                for port in seq_at(service, "spec.ports") {
                    let target = text_at(port, "targetPort").unwrap_or_default();
                    let target_port = if target == "http" {
                        given.ports.first().copied()
                    } else {
                        target.parse().ok()
                    };
                    if target_port != given.ports.first().copied() || given.ports.is_empty() {
                        problems.push(format!(
                            "{name}: the Service sends to {target}, not {:?}",
                            given.ports
                        ));
                    }
                }
            }
        }
        match manifests.find("PodDisruptionBudget", name) {
            Some(budget) if selects(at(budget, "spec.selector.matchLabels"), &pod_labels) => {}
            _ => problems.push(format!("{name}: no PodDisruptionBudget for its pods")),
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
fn kubernetes_runs_the_nats_cluster_on_deploy_nats() {
    let manifests = manifests();
    let nats = manifests.get("StatefulSet", "pathway-nats");
    assert_eq!(at(nats, "spec.replicas").and_then(Value::as_u64), Some(3));
    let start = at(nats, "spec.ordinals.start")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let pods: Vec<String> = (start..start + 3)
        .map(|i| format!("pathway-nats-{i}"))
        .collect();
    assert_eq!(
        pods,
        nats_route_hosts(),
        "the pods are the nodes cluster-node.conf routes to"
    );
    for pod in &pods {
        let service = manifests.get("Service", pod);
        let selector = labels(at(service, "spec.selector"));
        assert_eq!(
            selector.get("statefulset.kubernetes.io/pod-name"),
            Some(pod)
        );
        assert_eq!(
            at(service, "spec.publishNotReadyAddresses").and_then(Value::as_bool),
            Some(true)
        );
    }
    let pod = at(nats, "spec.template.spec").expect("a pod template");
    let container = &seq_at(pod, "containers")[0];
    let args = texts_at(container, "args").join(" ");
    assert!(
        args.contains("--config /etc/nats/cluster-node.conf"),
        "{args}"
    );
    let files = manifests.files(pod, container, "nats");
    assert_eq!(
        files.get(&PathBuf::from("/etc/nats/cluster-node.conf")),
        Some(&Some(deploy_dir().join("nats/cluster-node.conf")))
    );
    assert_eq!(
        files.get(&PathBuf::from("/etc/nats/accounts.conf")),
        Some(&Some(deploy_dir().join("nats/accounts.conf")))
    );
    for file in [
        "/etc/nats/tls/ca.pem",
        "/etc/nats/tls/node.pem",
        "/etc/nats/tls/node-key.pem",
    ] {
        assert!(
            files.contains_key(&PathBuf::from(file)),
            "{file} is not mounted"
        );
    }
    let budget = manifests.get("PodDisruptionBudget", "pathway-nats");
    assert_eq!(
        at(budget, "spec.maxUnavailable").and_then(Value::as_u64),
        Some(1)
    );
    assert_eq!(
        at(pod, "securityContext.runAsNonRoot").and_then(Value::as_bool),
        Some(true)
    );
}
