//! `deploy/Containerfile`, read instruction by instruction: what the last
//! stage holds and runs as, and what the build stage builds.

use std::collections::BTreeSet;

use crate::settings::Env;
use crate::{SERVICES, deploy_dir, read};

/// The runtime image as the Containerfile builds it.
#[derive(Debug)]
pub struct Image {
    /// The binaries copied into `/usr/local/bin` of the last stage.
    pub binaries: BTreeSet<String>,
    /// Its `USER`, as written.
    pub user: Option<String>,
    /// Its `ENV`.
    pub env: Env,
    /// The packages `cargo build` is asked for.
    pub packages: BTreeSet<String>,
    /// The release binaries the build stage puts aside for the last stage.
    pub built: BTreeSet<String>,
}

impl Image {
    /// The user's numeric id, when it is written as one.
    pub fn uid(&self) -> Option<u64> {
        self.user.as_deref()?.split(':').next()?.parse().ok()
    }
}

/// The Containerfile's instructions, continuation lines joined and comments
/// dropped, as (instruction, arguments).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let joined = std::mem::take(&mut current);
                let (instruction, arguments) = joined.split_once(' ').unwrap_or((&joined, ""));
                instructions.push((instruction.to_uppercase(), arguments.trim().to_owned()));
            }
        }
    }
    instructions
}

/// The image `deploy/Containerfile` builds.
pub fn image() -> Image {
    parse(&read(&deploy_dir().join("Containerfile")))
}

fn parse(text: &str) -> Image {
    let instructions = instructions(text);
    let last_from = instructions
        .iter()
        .rposition(|(instruction, _)| instruction == "FROM")
        .expect("the Containerfile has a FROM");
    let (build, runtime) = instructions.split_at(last_from);
    let mut image = Image {
        binaries: BTreeSet::new(),
        user: None,
        env: Env::new(),
        packages: BTreeSet::new(),
        built: BTreeSet::new(),
    };
    for (instruction, arguments) in build {
        if instruction == "RUN" && arguments.contains("cargo build") {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            // The packages of the `cargo build` command, up to the next `&&`.
            let cargo: Vec<&str> = arguments
                .split("&&")
                .filter(|command| command.contains("cargo build"))
                .flat_map(str::split_whitespace)
                .collect();
            for pair in cargo.windows(2) {
                if pair[0] == "-p" {
                    image.packages.insert(pair[1].to_owned());
                }
            }
            image.built.extend(
                words
                    .iter()
                    .filter_map(|word| word.strip_prefix("target/release/"))
                    .map(str::to_owned),
            );
        }
    }
    for (instruction, arguments) in runtime {
        match instruction.as_str() {
            "USER" => image.user = Some(arguments.clone()),
            "ENV" => {
                for pair in arguments.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("ENV KEY=value");
                    image.env.insert(key.to_owned(), value.to_owned());
                }
            }
            "COPY" => {
                let words: Vec<&str> = arguments.split_whitespace().collect();
                if words.first() == Some(&"--from=build") && words.len() == 3 {
                    let source = words[1].rsplit('/').next().unwrap_or_default();
                    if let Some(binary) = words[2].strip_prefix("/usr/local/bin/")
                        && source == binary
                        && image.built.contains(binary)
                    {
                        image.binaries.insert(binary.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    image
}

#[test]
fn the_image_builds_every_binary_and_runs_as_a_non_root_user() {
    let image = image();
    let mut expected: BTreeSet<String> = SERVICES.iter().map(|s| s.to_string()).collect();
    expected.insert("pathway".into());
    assert_eq!(image.binaries, expected, "binaries built and copied");
    let mut packages: BTreeSet<String> = SERVICES.iter().map(|s| format!("pathway-{s}")).collect();
    packages.insert("pathway-cli".into());
    assert_eq!(image.packages, packages, "packages built");
    let uid = image.uid().expect("USER is a numeric id");
    assert_ne!(uid, 0, "the image runs as root");
    assert_eq!(
        image.env.get("PATHWAY_HTTP__HOST").map(String::as_str),
        Some("0.0.0.0")
    );
}

#[test]
fn the_reader_sees_a_root_user_and_a_binary_copied_under_another_name() {
    let text = "FROM rust AS build\nRUN cargo build -p pathway-cli \\\n && cp target/release/pathway /out/\n\
                FROM debian\n# USER 10001\nCOPY --from=build /out/pathway /usr/local/bin/other\nUSER root\n";
    let image = parse(text);
    assert_eq!(image.packages, BTreeSet::from(["pathway-cli".to_owned()]));
    assert_eq!(image.built, BTreeSet::from(["pathway".to_owned()]));
    assert!(image.binaries.is_empty(), "{:?}", image.binaries);
    assert_eq!(image.user.as_deref(), Some("root"));
    assert_eq!(image.uid(), None);
}
