//! The retention sweep: each board's messages lose their address and words
//! once its `retention.delivery_days` have passed since they were last
//! tried, and its audit rows go after `retention.audit_years`, each by the
//! settings in force on the Scottish day of the sweep. What went is itself
//! audited ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::board_settings;
use pathway_common::retention::{self, Purged, in_batches};
use pathway_proto::{BoardCode, days};

use super::{ACTOR, Error, Notifications};
use crate::store::retention::scrub_batch;

impl Notifications {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let mut out = Vec::new();
        for board in BoardCode::all() {
            let periods = board_settings::in_force_on(self.db(), board, today)
                .await?
                .retention;
            let cutoff = periods.delivery_cutoff(today);
            let rows = in_batches(|| scrub_batch(self.db(), board, cutoff)).await?;
            out.push(Purged {
                board,
                what: "messages' addresses and words",
                rows,
                cutoff,
            });
        }
        out.retain(|purged| purged.rows > 0);
        for purged in &out {
            retention::record(self.db(), ACTOR, purged).await?;
            tracing::info!(board = %purged.board, rows = purged.rows, "retention: messages emptied");
        }
        out.extend(retention::sweep_audit(self.db(), ACTOR, now).await?);
        Ok(out)
    }
}
