//! What a deployment gives one service's container, whichever file says it,
//! and the checks every deployment of a service must pass.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::image::Image;
use crate::settings::{self, Env};

/// A probe: what it is for, the path it asks and the port.
#[derive(Debug, Clone)]
pub struct Probe {
    pub kind: &'static str,
    pub path: String,
    pub port: u16,
}

/// One service's container as a deployment file describes it.
#[derive(Debug)]
pub struct Given {
    /// Where it is described, for messages.
    pub origin: String,
    pub service: String,
    pub command: Vec<String>,
    pub replicas: u64,
    /// Its own environment (the image's `ENV` is added under it).
    pub env: Env,
    /// Every file mounted into it, by path, with the file in this
    /// repository that shows what it holds (an example), where there is one.
    pub files: BTreeMap<PathBuf, Option<PathBuf>>,
    pub ports: Vec<u16>,
    pub probes: Vec<Probe>,
}

impl Given {
    /// Every check a service's deployment must pass, each failure named.
    pub fn problems(&self, image: &Image) -> Vec<String> {
        let mut problems = Vec::new();
        let binary = self.command.first().map(String::as_str).unwrap_or("");
        if self.command != [self.service.as_str()] {
            problems.push(format!("runs {:?}, not [{:?}]", self.command, self.service));
        }
        if !image.binaries.contains(binary) {
            problems.push(format!("runs {binary:?}, which the image does not hold"));
        }
        if self.replicas != 2 {
            problems.push(format!("runs {} instances, not 2", self.replicas));
        }
        let mut env = image.env.clone();
        env.extend(self.env.clone());
        for key in env.keys().filter(|key| !key.starts_with("PATHWAY_")) {
            problems.push(format!("sets {key}, which no service reads"));
        }
        for (key, value) in env
            .iter()
            .filter(|(key, _)| key.ends_with("_FILE") || key.as_str() == "PATHWAY_CONFIG")
        {
            if !self.files.contains_key(&PathBuf::from(value)) {
                problems.push(format!("{key} names {value}, which is not mounted"));
            }
        }
        let config_file = match env.get("PATHWAY_CONFIG") {
            None => None,
            Some(path) => match self.files.get(&PathBuf::from(path)) {
                Some(Some(example)) if example.is_file() => Some(example.clone()),
                Some(Some(example)) => {
                    problems.push(format!("{path}'s example {} is missing", example.display()));
                    None
                }
                _ => {
                    problems.push(format!("{path} has no example in deploy/secrets.example"));
                    None
                }
            },
        };
        match settings::check(&self.service, &env, config_file.as_deref()) {
            Err(refused) => problems.push(refused),
            Ok(checked) => {
                if self.ports != [checked.port] {
                    problems.push(format!(
                        "exposes {:?}, but listens on {}",
                        self.ports, checked.port
                    ));
                }
                for probe in &self.probes {
                    if probe.port != checked.port {
                        problems.push(format!(
                            "probes {} on port {}, but listens on {}",
                            probe.path, probe.port, checked.port
                        ));
                    }
                }
            }
        }
        problems
            .into_iter()
            .map(|problem| format!("{}: {problem}", self.origin))
            .collect()
    }
}
