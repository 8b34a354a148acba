//! Rebuild: forget every fact and read the whole stream again. Run it with
//! the service stopped (the running consumer would lose its durable); the
//! next start carries on from where the rebuild ended.
//!
//! The facts (all but the imported baseline), the boards' histories, the consumer's inbox rows and its dead
//! letters are deleted in one transaction, the durable consumer is deleted
//! and created again from the start of the stream, and every message is
//! handled through the same inbox as in service, one batch at a time, so a
//! rebuild gives the same facts as the service built them.

use anyhow::Context;
use pathway_common::inbox::{self, dead_letter};
use pathway_common::platform::Platform;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::application::Analytics;
use crate::consumer::DURABLE;
use crate::db::{Migrator, fact, pathway_change, settings_change};
use crate::domain::metrics::MetricRules;
use crate::settings::Settings;

/// How far a rebuild has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Messages handled so far (redeliveries and dead letters included).
    pub handled: u64,
    /// Messages still waiting on the stream for this consumer.
    pub remaining: u64,
}

/// Rebuild every fact from the stream, calling `report` after each batch.
pub async fn rebuild(
    settings: &Settings,
    mut report: impl FnMut(Progress),
) -> anyhow::Result<Progress> {
    let platform = Platform::start::<Migrator>(
        "analytics",
        &settings.database,
        &settings.nats,
        &settings.auth,
    )
    .await?;
    let txn = platform.db.begin().await?;
    // Imported baseline facts come from no stream: they stay.
    fact::Entity::delete_many()
        .filter(fact::Column::ReferralId.not_like(format!("{}%", crate::baseline::PREFIX)))
        .exec(&txn)
        .await?;
    pathway_change::Entity::delete_many().exec(&txn).await?;
    settings_change::Entity::delete_many().exec(&txn).await?;
    inbox::entity::Entity::delete_many()
        .filter(inbox::entity::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    dead_letter::Entity::delete_many()
        .filter(dead_letter::Column::Consumer.eq(DURABLE))
        .exec(&txn)
        .await?;
    txn.commit().await.context("cannot clear the facts")?;
    let stream = platform
        .jetstream
        .get_stream(pathway_proto::stream::NAME)
        .await
        .context("the pathway stream is missing")?;
    // Absent on a first run: nothing to delete then.
    let _ = stream.delete_consumer(DURABLE).await;
    let analytics = Analytics {
        platform: platform.clone(),
        rules: MetricRules {
            without_specialist: settings.without_specialist_outcomes.clone(),
            suppression_threshold: settings.suppression_threshold.max(1),
        },
    };
    let inbox = crate::startup::inbox(&analytics).await?;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = stream
        .get_consumer(DURABLE)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read back the consumer just created: {e}"))?;
    let mut progress = Progress {
        handled: 0,
        remaining: 0,
    };
    loop {
        let outcomes = inbox.try_process_batch(256).await?;
        progress.handled += outcomes.len() as u64;
        let info = consumer.info().await.context("cannot read the consumer")?;
        progress.remaining = info.num_pending;
        report(progress);
        if outcomes.is_empty() && info.num_pending == 0 && info.num_ack_pending == 0 {
            break;
        }
    }
    // Dead letters found on the way wait in the outbox: publish them now;
    // what cannot be published now the service's relay publishes later.
    let relay = platform.relay();
    loop {
        match relay.try_publish_batch().await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "dead letters left in the outbox for the service to publish"
                );
                break;
            }
        }
    }
    platform.db.close().await.ok();
    Ok(progress)
}
