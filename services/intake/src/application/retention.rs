//! The retention sweep: each board's referrals go, whole, once its
//! `retention.referral_years` have passed since their last change (a
//! child's not before the year after their 26th birthday), and its
//! audit rows after `retention.audit_years`, each by the settings in force
//! on the Scottish day of the sweep. What went is itself audited
//! ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::retention::{self, Purged, in_batches};
use pathway_proto::{BoardCode, days};

use super::boards::settings_record;
use super::{Error, Intake};
use crate::store::retention::purge_batch;

/// The actor named on the sweep's audit rows.
const ACTOR: &str = "intake";

impl Intake {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let mut out = Vec::new();
        for board in BoardCode::all() {
            let periods = settings_record(self.db(), board, today)
                .await?
                .settings
                .retention;
            let cutoff = periods.referral_cutoff(today);
            let rows = in_batches(|| purge_batch(self.db(), board, cutoff, today)).await?;
            out.push(Purged {
                board,
                what: "referrals with everything held of them",
                rows,
                cutoff,
            });
            let cutoff = periods.audit_cutoff(today);
            let rows =
                in_batches(|| retention::purge_audit_batch(self.db(), board, cutoff)).await?;
            out.push(Purged {
                board,
                what: retention::AUDIT_ROWS,
                rows,
                cutoff,
            });
        }
        out.retain(|purged| purged.rows > 0);
        for purged in &out {
            retention::record(self.db(), ACTOR, purged).await?;
            tracing::info!(board = %purged.board, rows = purged.rows, what = purged.what, "retention: removed");
        }
        Ok(out)
    }
}
