//! The real `intake` binary with `PATHWAY_PROFILE=production` and the
//! embedded default's settings: it refuses to start, naming every missing
//! or unsafe setting, before it creates or connects to anything.

use std::process::Command;

fn intake(dir: &std::path::Path, profile: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_intake"))
        .current_dir(dir)
        .env_clear()
        .env("PATHWAY_PROFILE", profile)
        .env("RUST_LOG", "warn")
        .output()
        .expect("intake runs")
}

#[test]
fn production_refuses_the_embedded_default_naming_each_setting() {
    let dir = tempfile::tempdir().expect("a directory");
    let output = intake(dir.path(), "production");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("intake will not start with PATHWAY_PROFILE=production"),
        "{stderr}"
    );
    for setting in [
        "PATHWAY_AUTH__JWKS_URL",
        "PATHWAY_AUTH__ISSUER",
        "PATHWAY_AUTH__AUDIENCE",
        "PATHWAY_AUTH__TOKEN_PASTING",
        "PATHWAY_NATS__URL",
        "PATHWAY_NATS__CREDENTIALS_FILE",
        "PATHWAY_NATS__REPLICAS",
        "PATHWAY_INTAKE__DATABASE__URL",
        "PATHWAY_INTAKE__PATIENT_PAGE_URL",
        "PATHWAY_INTAKE__ENCRYPTION__KEK_FILE",
    ] {
        assert!(stderr.contains(setting), "{setting}: {stderr}");
    }
    // Nothing was created: no database, no key file.
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert!(created.is_empty(), "{created:?}");
}

#[test]
fn a_profile_that_is_not_one_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().expect("a directory");
    let output = intake(dir.path(), "prod");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PATHWAY_PROFILE is \"prod\""), "{stderr}");
}
