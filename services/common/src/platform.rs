//! What every service starts with: its database (migrated), NATS and
//! JetStream (streams ensured), metrics, the outbox signal and the
//! authenticator.

use std::sync::Arc;

use anyhow::Context;
use async_nats::jetstream;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use crate::auth::Authenticator;
use crate::http::ReadinessCheck;
use crate::metrics::Metrics;
use crate::outbox::{OutboxSignal, Relay};
use crate::settings::{AuthSettings, DatabaseSettings, NatsSettings};
use crate::supervisor::Workforce;

#[derive(Clone)]
pub struct Platform {
    pub service: &'static str,
    pub db: DatabaseConnection,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub metrics: Metrics,
    pub outbox: OutboxSignal,
    pub auth: Arc<Authenticator>,
    /// Its background workers, and which of them are down.
    pub workforce: Workforce,
}

impl Platform {
    pub async fn start<M: MigratorTrait>(
        service: &'static str,
        database: &DatabaseSettings,
        nats: &NatsSettings,
        auth: &AuthSettings,
    ) -> anyhow::Result<Self> {
        // A bad stream age stops the start before anything else happens.
        let limits = crate::bus::StreamLimits::from_settings(nats)?;
        let db = crate::db::connect(database).await?;
        M::up(&db, None)
            .await
            .with_context(|| format!("cannot migrate the {service} database"))?;
        let client = crate::bus::connect(nats, service).await?;
        // The client keeps retrying in the background; say plainly when the
        // server is not there rather than failing later on a timeout.
        let started = std::time::Instant::now();
        while client.connection_state() != async_nats::connection::State::Connected {
            if started.elapsed() > std::time::Duration::from_secs(15) {
                anyhow::bail!(
                    "cannot reach NATS at {} after 15 s: start it (`make run` does) or set PATHWAY_NATS__URL",
                    nats.url.rsplit('@').next().unwrap_or(&nats.url)
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let jetstream = jetstream::new(client.clone());
        crate::bus::ensure_streams_with(&jetstream, limits).await?;
        if service == crate::bus::STREAM_OWNER {
            crate::bus::apply_stream_limits(&jetstream, limits).await?;
        }
        Ok(Self {
            service,
            db,
            nats: client,
            jetstream,
            metrics: Metrics::new(service),
            outbox: OutboxSignal::default(),
            auth: Arc::new(Authenticator::from_settings(auth)?),
            workforce: Workforce::default(),
        })
    }

    pub fn relay(&self) -> Relay {
        Relay::new(
            self.db.clone(),
            self.jetstream.clone(),
            self.outbox.clone(),
            self.metrics.clone(),
        )
    }

    /// Ready when the database answers, NATS is connected and every
    /// background worker runs; otherwise the reason names what is not.
    pub fn readiness(&self) -> ReadinessCheck {
        let db = self.db.clone();
        let nats = self.nats.clone();
        let workforce = self.workforce.clone();
        Arc::new(move || {
            let db = db.clone();
            let nats = nats.clone();
            let workforce = workforce.clone();
            Box::pin(async move {
                db.ping().await.map_err(|e| format!("database: {e}"))?;
                match nats.connection_state() {
                    async_nats::connection::State::Connected => {}
                    state => return Err(format!("nats: {state}")),
                }
                let down = workforce.down();
                if down.is_empty() {
                    Ok(())
                } else {
                    Err(down.join("; "))
                }
            })
        })
    }
}
