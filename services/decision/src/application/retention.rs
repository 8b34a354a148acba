//! The retention sweep: by each board's settings in force on the Scottish
//! day of the sweep, the clinicians' words kept in older decisions of
//! finished referrals are emptied once `retention.clinical_text_years` have
//! passed since the referral's last change, the referral's decisions and
//! opt-in windows go after `retention.referral_years`, and audit rows after
//! `retention.audit_years` (`crate::store::retention` says what counts as
//! finished). What went is itself audited ([`pathway_common::retention`]).

use chrono::{DateTime, Utc};
use pathway_common::retention::{self, Purged, in_batches};
use pathway_proto::{BoardCode, days};

use super::{Decisions, Error};
use crate::store::board_settings;
use crate::store::retention::{purge_referrals_batch, purge_texts_batch};

/// The actor named on the sweep's audit rows.
const ACTOR: &str = "decision";

impl Decisions {
    /// Sweep every board as of `now`; what went, board by board.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<Vec<Purged>, Error> {
        let today = days::day_of(now);
        let mut out = Vec::new();
        for board in BoardCode::all() {
            let periods = board_settings::in_force_on(self.db(), board, today)
                .await?
                .retention;
            let cutoff = periods.clinical_text_cutoff(today);
            let rows = in_batches(|| purge_texts_batch(self.db(), board, cutoff)).await?;
            out.push(Purged {
                board,
                what: "clinicians' words in decisions of finished referrals",
                rows,
                cutoff,
            });
            let cutoff = periods.referral_cutoff(today);
            let rows = in_batches(|| purge_referrals_batch(self.db(), board, cutoff)).await?;
            out.push(Purged {
                board,
                what: "finished referrals' decisions and opt-in windows",
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
