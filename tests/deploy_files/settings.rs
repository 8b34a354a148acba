//! A service's settings from the variables and the file a deployment gives
//! it, layered exactly as `pathway_common::settings::load` layers them, with
//! every key the settings would ignore reported.

use std::collections::BTreeMap;
use std::path::Path;

use pathway_common::profile::Profile;
use pathway_common::startup::{Service, ServiceSettings, check_production};

/// A container's environment.
pub type Env = BTreeMap<String, String>;

/// What the production check found of one service's settings.
#[derive(Debug)]
pub struct Checked {
    /// Its configured `http.port`.
    pub port: u16,
}

/// `service`'s settings from `env` and the TOML file `config_file`, checked
/// as `PATHWAY_PROFILE=production` checks them at start.
pub fn check(service: &str, env: &Env, config_file: Option<&Path>) -> Result<Checked, String> {
    match service {
        "intake" => check_as::<pathway_intake::application::Intake>(env, config_file),
        "vetting" => check_as::<pathway_vetting::application::Vetting>(env, config_file),
        "decision" => check_as::<pathway_decision::application::Decisions>(env, config_file),
        "notification" => {
            check_as::<pathway_notification::application::Notifications>(env, config_file)
        }
        "analytics" => check_as::<pathway_analytics::application::Analytics>(env, config_file),
        other => Err(format!("{other} is not a Pathway service")),
    }
}

fn check_as<S: Service>(env: &Env, config_file: Option<&Path>) -> Result<Checked, String> {
    let profile = Profile::parse(env.get("PATHWAY_PROFILE").map(String::as_str))
        .map_err(|error| error.to_string())?;
    if profile != Profile::Production {
        return Err("PATHWAY_PROFILE is not production".into());
    }
    let settings = load::<S>(env, config_file)?;
    check_production::<S>(&settings).map_err(|error| error.to_string())?;
    Ok(Checked {
        port: settings.http().port,
    })
}

/// The settings `S` loads from `env` and `config_file`; an error names every
/// key they do not read.
pub fn load<S: Service>(env: &Env, config_file: Option<&Path>) -> Result<S::Settings, String> {
    let variables: config::Map<String, String> = env.clone().into_iter().collect();
    let mut builder = config::Config::builder();
    if let Some(path) = config_file {
        builder = builder.add_source(config::File::from(path).required(true));
    }
    let config = builder
        .add_source(
            config::Environment::with_prefix("PATHWAY")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(variables.clone())),
        )
        .add_source(
            config::Environment::with_prefix(&format!("PATHWAY_{}", S::NAME.to_uppercase()))
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(variables)),
        )
        .build()
        .map_err(|error| error.to_string())?;
    let mut ignored = Vec::new();
    let settings: S::Settings =
        serde_ignored::deserialize(config, |path| ignored.push(path.to_string()))
            .map_err(|error| format!("{} settings: {error}", S::NAME))?;
    // The shared layer also sees the service's own variables
    // (`PATHWAY_INTAKE__…` as `intake.…`), and the two the start-up reads
    // itself, `PATHWAY_PROFILE` and `PATHWAY_CONFIG`.
    ignored.retain(|key| !matches!(key.as_str(), "profile" | "config") && key != S::NAME);
    if ignored.is_empty() {
        Ok(settings)
    } else {
        Err(format!("{} does not read {}", S::NAME, ignored.join(", ")))
    }
}

/// The checker refuses what the services would: unknown keys, another
/// service's prefix, and settings production refuses.
#[test]
fn the_check_refuses_unknown_variables_and_unsafe_settings() {
    let production: Env = [
        ("PATHWAY_PROFILE", "production"),
        ("PATHWAY_NATS__URL", "tls://pathway-nats-1:4222"),
        ("PATHWAY_NATS__REPLICAS", "3"),
        ("PATHWAY_NATS__NKEY_SEED_FILE", "/run/secrets/nats.seed"),
        ("PATHWAY_AUTH__JWKS_URL", "https://idp.example/keys"),
        ("PATHWAY_AUTH__ISSUER", "https://idp.example"),
        ("PATHWAY_AUTH__AUDIENCE", "pathway"),
        ("PATHWAY_AUTH__TOKEN_PASTING", "false"),
        (
            "PATHWAY_DECISION__DATABASE__URL",
            "postgres://decision@db/decision",
        ),
        ("PATHWAY_AUTH__TOKEN_URL", "https://idp.example/token"),
        ("PATHWAY_AUTH__CLIENT_ID", "pathway-decision"),
        ("PATHWAY_AUTH__CLIENT_SECRET", "a-client-secret"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let checked = check("decision", &production, None).expect("a production configuration");
    assert_eq!(checked.port, pathway_decision::settings::DEFAULT_PORT);

    let with = |key: &str, value: &str| {
        let mut env = production.clone();
        env.insert(key.to_owned(), value.to_owned());
        env
    };
    let without = |key: &str| {
        let mut env = production.clone();
        env.remove(key);
        env
    };
    let refusals = [
        (with("PATHWAY_DECISION__HTTP__PROT", "8083"), "http.prot"),
        (with("PATHWAY_NATS__NKEY_SEED", "/x"), "nats.nkey_seed"),
        (with("PATHWAY_VETTING__SECURE_COOKIES", "true"), "vetting"),
        (with("PATHWAY_DECISION__HTTP__PORT", "eighty"), "port"),
        (with("PATHWAY_PROFILE", "prod"), "PATHWAY_PROFILE"),
        (without("PATHWAY_PROFILE"), "PATHWAY_PROFILE"),
        (
            without("PATHWAY_AUTH__TOKEN_URL"),
            "PATHWAY_AUTH__TOKEN_URL",
        ),
        (
            with("PATHWAY_NATS__URL", "nats://n:4222"),
            "PATHWAY_NATS__URL",
        ),
        (
            with("PATHWAY_DECISION__DATABASE__URL", "sqlite://x.db"),
            "PATHWAY_DECISION__DATABASE__URL",
        ),
    ];
    for (env, named) in refusals {
        let refused = check("decision", &env, None).expect_err(named);
        assert!(refused.contains(named), "{named} not in: {refused}");
    }
}
