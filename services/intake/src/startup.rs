//! Building and running the intake service: the same [`Application`] runs in
//! `main` and in the tests.

use std::path::Path;

use anyhow::Context;
use pathway_common::background::Background;
use pathway_common::inbox::ConsumerSpec;
use pathway_common::platform::Platform;
use sea_orm::{EntityTrait, TransactionTrait, sea_query::OnConflict};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::application::Intake;
use crate::consumer::{StatusProjection, filters};
use crate::db::{Migrator, postcode};
use crate::http::{AppState, router};
use crate::settings::Settings;

/// Which background workers run; tests switch some off to drive them by hand.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub relay: bool,
    pub consumer: bool,
    pub rpc: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            relay: true,
            consumer: true,
            rpc: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    intake: Intake,
    settings: Settings,
    workers: Workers,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Workers::default()).await
    }

    pub async fn build_with(settings: Settings, workers: Workers) -> anyhow::Result<Self> {
        let platform = Platform::start::<Migrator>(
            "intake",
            &settings.database,
            &settings.nats,
            &settings.auth,
        )
        .await?;
        let pseudonym_key = pathway_common::auth::load_or_create_key(&settings.pseudonym_key_file)
            .context("cannot load the pseudonym key")?;
        if let Some(file) = &settings.postcode_lookup_file {
            let count = load_postcodes(&platform.db, file).await?;
            tracing::info!(count, file = %file.display(), "postcode lookup loaded");
        }
        let address = (settings.http.host, settings.http.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        Ok(Self {
            listener,
            intake: Intake {
                platform,
                pseudonym_key,
            },
            settings,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// Serve until `shutdown`; then stop taking work, finish what is in
    /// flight and flush the outbox.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let platform = self.intake.platform.clone();
        let mut background = Background::new(&shutdown);
        if self.workers.relay {
            background.relay(&platform);
        }
        if self.workers.consumer {
            background
                .consume(
                    &platform,
                    ConsumerSpec::new("intake-status", filters()),
                    StatusProjection,
                )
                .await?;
        }
        if self.workers.rpc {
            let intake = self.intake.clone();
            let stop = shutdown.clone();
            background.spawn(async move { crate::rpc::serve(intake, stop).await });
        }
        let app = router(
            AppState {
                intake: self.intake.clone(),
            },
            self.settings.http.body_limit_bytes,
        );
        background
            .serve(self.listener, app)
            .await
            .context("the HTTP server failed")
    }
}

/// Load (or refresh) the postcode lookup: every row is checked before any
/// is written, so a bad file changes nothing.
pub async fn load_postcodes(
    db: &sea_orm::DatabaseConnection,
    file: &Path,
) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_path(file)
        .with_context(|| format!("cannot open the postcode lookup {}", file.display()))?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record =
            record.with_context(|| format!("{}: line {line} is not CSV", file.display()))?;
        let (Some(code), Some(class), Some(quintile)) =
            (record.get(0), record.get(1), record.get(2))
        else {
            anyhow::bail!(
                "{}: line {line} needs postcode,urban_rural_class,simd_quintile",
                file.display()
            );
        };
        let code = crate::domain::Postcode::parse(code).with_context(|| {
            format!(
                "{}: line {line}: {code:?} is not a postcode",
                file.display()
            )
        })?;
        let class: i32 = class
            .trim()
            .parse()
            .ok()
            .filter(|c| (1..=6).contains(c))
            .with_context(|| {
                format!(
                    "{}: line {line}: urban_rural_class must be 1 to 6",
                    file.display()
                )
            })?;
        let quintile: i32 = quintile
            .trim()
            .parse()
            .ok()
            .filter(|q| (1..=5).contains(q))
            .with_context(|| {
                format!(
                    "{}: line {line}: simd_quintile must be 1 to 5",
                    file.display()
                )
            })?;
        rows.push(postcode::ActiveModel {
            postcode: sea_orm::ActiveValue::Set(code.as_str().to_owned()),
            urban_rural_class: sea_orm::ActiveValue::Set(class),
            simd_quintile: sea_orm::ActiveValue::Set(quintile),
        });
    }
    let count = rows.len();
    let txn = db.begin().await?;
    for chunk in rows.chunks(500) {
        postcode::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(postcode::Column::Postcode)
                    .update_columns([
                        postcode::Column::UrbanRuralClass,
                        postcode::Column::SimdQuintile,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}
