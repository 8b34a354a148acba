//! Lapsed claims go back to the worklist, each with `vetting.released`
//! (reason `lapsed`) and an audit row.
//!
//! Every instance of vetting sweeps: each lapsed row is returned in a
//! transaction of its own by an update that names the version it read, and
//! only the sweep whose update changed the row writes the event and the
//! audit row, so two sweeps at the same instant release it once.

use pathway_common::audit::{self, AuditEntry};
use pathway_common::outbox;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Error, Vetting};
use crate::domain::status::Transition;
use crate::store::worklist::{self, Change, Saved};

impl Vetting {
    /// Return lapsed claims to the worklist. Answers how many lapsed.
    pub async fn expire_leases(&self) -> Result<usize, Error> {
        let now = self.clock.now();
        let lapsed = worklist::lapsed(self.db(), now).await?;
        let mut count = 0;
        for row in lapsed {
            let Ok(next) = row.status().apply(Transition::Released) else {
                continue;
            };
            let txn = self.db().begin().await?;
            let event = Event::new(
                &row.board,
                Uuid::parse_str(&row.referral_id).ok(),
                "system",
                now,
                Payload::VettingReleased(proto::VettingReleased {
                    clinician: row.claimed_by.clone().unwrap_or_default(),
                    reason: "lapsed".into(),
                }),
            );
            match worklist::save(&txn, &row, now, Change::to(next).unclaimed()).await? {
                Saved::Saved(_) => {}
                // Claimed again, vetted or released by another instance
                // meanwhile: nothing lapsed.
                Saved::Changed(_) => {
                    txn.rollback().await?;
                    continue;
                }
            }
            outbox::enqueue(&txn, &event).await?;
            audit::record(
                &txn,
                AuditEntry {
                    actor: "system",
                    actor_role: "system",
                    action: "referral.lease_lapsed",
                    referral_id: Some(row.referral_id.clone()),
                    board: Some(&row.board),
                    source: "vetting",
                    purpose: Some("the claim lapsed"),
                },
            )
            .await?;
            txn.commit().await?;
            count += 1;
        }
        if count > 0 {
            self.platform.outbox.notify();
        }
        Ok(count)
    }
}
