//! The patient's opt-in (NHS Scotland's Active Clinical Referral Triage):
//! giving out a decision's link and short code, reading what the page shows
//! for a link, and the patient opting in.
//!
//! Issuing keeps one invitation row per decision ([`crate::store::opt_in`]);
//! asking again for the same decision gives the same link and code, so a
//! redelivered `decision.recorded` sends the patient the same message.
//!
//! Opting in marks the invitation used, moves the referral from
//! `awaiting_opt_in` back to `awaiting_vetting`, and writes its history, its
//! audit row and `referral.opted_in` (outbox) in one transaction: a crash
//! before the commit leaves the link unused, after it the event is owed and
//! the relay publishes it. Of two clicks racing, the conditional update lets
//! one win; the other is told the answer was already given.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use pathway_common::audit::{self, AuditEntry};
use pathway_proto::board::BoardSettings;
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{DatabaseTransaction, DbErr, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{change_status, parse_id};
use crate::application::{Error, Intake};
use crate::domain::opt_in::{OptInKey, OptInToken, ShortCode};
use crate::domain::{BoardCode, Status, Transition};
use crate::store::{opt_in, queries, referral};

/// The actor named on the event, the history and the audit row: the
/// patient holds no token, only the link.
const PATIENT: &str = "patient";

/// What intake signs links with and where the patient's page is.
#[derive(Clone, Debug)]
pub struct OptInLinks {
    key: OptInKey,
    /// The page's public address, without a trailing slash.
    page_url: String,
}

impl OptInLinks {
    /// Links signed with `key` to the page at `page_url`.
    pub fn new(key: &[u8], page_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            key: OptInKey::new(key)
                .map_err(|_| anyhow::anyhow!("the opt-in key cannot be used"))?,
            page_url: page_url.trim_end_matches('/').to_owned(),
        })
    }

    fn link(&self, token: &OptInToken) -> String {
        format!("{}{}", self.page_url, Self::path(&self.key, token))
    }

    /// The page's path on intake, for a redirect on the host the patient
    /// is already on.
    fn path(key: &OptInKey, token: &OptInToken) -> String {
        format!("/opt-in/{}", token.sign(key))
    }
}

/// A decision's link and short code, as the patient's message carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLink {
    pub decision_id: String,
    pub url: String,
    /// Printed in two groups of five: `ABCDE-12345`.
    pub short_code: String,
    pub closes_at: DateTime<Utc>,
}

/// Keep the invitation of a `patient_opt_in` decision on `referral_id`,
/// in the status projection's transaction: once per decision, whatever
/// the number of deliveries. A decision without a window, or whose id is
/// not a UUID, has no invitation.
pub(crate) async fn record_invitation(
    txn: &DatabaseTransaction,
    links: &OptInLinks,
    referral_id: &str,
    board: &str,
    recorded: &proto::DecisionRecorded,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (Ok(decision_id), Some(closes_at)) = (
        Uuid::parse_str(recorded.decision_id.trim()),
        recorded
            .opt_in_deadline
            .as_ref()
            .and_then(proto::from_timestamp),
    ) else {
        tracing::warn!(%referral_id, "an opt-in decision without a usable id or window: no link");
        return Ok(());
    };
    if opt_in::find(txn, &decision_id.to_string()).await?.is_some() {
        return Ok(());
    }
    opt_in::insert(
        txn,
        opt_in::invitation::Model {
            decision_id: decision_id.to_string(),
            referral_id: referral_id.to_owned(),
            board: board.to_owned(),
            closes_at,
            code_hash: ShortCode::for_decision(&links.key, decision_id).hash(),
            issued_at: now,
            redeemed_at: None,
        },
    )
    .await?;
    Ok(())
}

/// What the page shows for a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptInPage {
    /// Not a link of ours, or none we gave out: the page says nothing
    /// about any referral.
    Unknown,
    /// The window closed.
    Expired { board: BoardCode },
    /// The patient already opted in.
    AlreadyOptedIn { board: BoardCode },
    /// The referral is not waiting for the patient's answer (withdrawn, or
    /// closed by a new decision).
    NotWaiting { board: BoardCode },
    /// The window is open: the board's information and the button.
    Open {
        board: BoardCode,
        /// The last Scottish day the patient may answer.
        last_day: NaiveDate,
        information: Option<String>,
    },
    /// The patient has just opted in.
    OptedIn { board: BoardCode },
}

/// Where a typed short code leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeOutcome {
    /// The path of the link's page on intake.
    Link(String),
    /// What to tell the patient next to the field.
    Problem(&'static str),
}

impl Intake {
    /// The link and short code of the referral's latest opt-in decision,
    /// if intake has learnt of one; the look-up for the patient's message
    /// gives them out with the contact details.
    pub async fn opt_in_link(&self, referral_id: &str) -> Result<Option<IssuedLink>, Error> {
        let Some(row) = opt_in::latest_for_referral(self.db(), referral_id).await? else {
            return Ok(None);
        };
        let decision_id = Uuid::parse_str(&row.decision_id)
            .map_err(|_| anyhow::anyhow!("stored decision id {} is not a UUID", row.decision_id))?;
        let token = OptInToken {
            decision_id,
            closes_at: row.closes_at,
        };
        Ok(Some(IssuedLink {
            decision_id: row.decision_id,
            url: self.opt_in.link(&token),
            short_code: ShortCode::for_decision(&self.opt_in.key, decision_id).printed(),
            closes_at: row.closes_at,
        }))
    }

    /// What the page at `token` shows at `now`.
    pub async fn opt_in_page(&self, token: &str, now: DateTime<Utc>) -> Result<OptInPage, Error> {
        let Some((token, row)) = self.invitation(token).await? else {
            return Ok(OptInPage::Unknown);
        };
        let Some(board) = BoardCode::parse(&row.board).ok() else {
            return Ok(OptInPage::Unknown);
        };
        if row.redeemed_at.is_some() {
            return Ok(OptInPage::AlreadyOptedIn { board });
        }
        if !token.is_open_at(now) {
            return Ok(OptInPage::Expired { board });
        }
        let status = referral::Entity::find_by_id(row.referral_id.clone())
            .one(self.db())
            .await?
            .map(|r| Status::from(r.status));
        if status != Some(Status::AwaitingOptIn) {
            return Ok(OptInPage::NotWaiting { board });
        }
        Ok(OptInPage::Open {
            board,
            last_day: pathway_proto::days::day_of(token.closes_at - TimeDelta::nanoseconds(1)),
            information: self.patient_information(board).await?,
        })
    }

    /// The page of the link whose short code the patient `typed`.
    pub async fn opt_in_code(&self, typed: &str) -> Result<CodeOutcome, Error> {
        let code = match ShortCode::parse(typed) {
            Ok(code) => code,
            Err(problem) => return Ok(CodeOutcome::Problem(problem)),
        };
        let Some(row) = opt_in::find_by_code(self.db(), &code.hash()).await? else {
            return Ok(CodeOutcome::Problem(
                "we do not know this code: check it against your letter",
            ));
        };
        let decision_id = Uuid::parse_str(&row.decision_id)
            .map_err(|_| anyhow::anyhow!("stored decision id {} is not a UUID", row.decision_id))?;
        Ok(CodeOutcome::Link(OptInLinks::path(
            &self.opt_in.key,
            &OptInToken {
                decision_id,
                closes_at: row.closes_at,
            },
        )))
    }

    /// The patient at `token` opts in at `now`: what the page then shows.
    pub async fn opt_in(&self, token: &str, now: DateTime<Utc>) -> Result<OptInPage, Error> {
        let page = self.opt_in_page(token, now).await?;
        let OptInPage::Open { board, .. } = page else {
            return Ok(page);
        };
        let Some((token, row)) = self.invitation(token).await? else {
            return Ok(OptInPage::Unknown);
        };
        let txn = self.db().begin().await?;
        if !opt_in::redeem(&txn, &row.decision_id, now).await? {
            return Ok(OptInPage::AlreadyOptedIn { board });
        }
        let Some(referral_row) = referral::Entity::find_by_id(row.referral_id.clone())
            .one(&txn)
            .await?
        else {
            return Ok(OptInPage::Unknown);
        };
        let from = Status::from(referral_row.status);
        let Ok(next) = from.apply(Transition::OptedIn) else {
            // Changed since the page was read: nothing is kept.
            return Ok(OptInPage::NotWaiting { board });
        };
        let event = Event::new(
            &referral_row.board,
            Some(parse_id(&referral_row.id)?),
            PATIENT,
            now,
            Payload::ReferralOptedIn(proto::ReferralOptedIn {
                decision_id: token.decision_id.to_string(),
            }),
        );
        let updated = change_status(
            &txn,
            referral_row,
            next,
            &event,
            Some(serde_json::json!({"decision_id": row.decision_id})),
        )
        .await?;
        audit::record(
            &txn,
            AuditEntry {
                actor: PATIENT,
                actor_role: PATIENT,
                action: "referral.opt_in",
                referral_id: Some(updated.id.clone()),
                board: Some(&updated.board),
                source: "opt-in page",
                purpose: Some("the patient opted in with their link"),
            },
        )
        .await?;
        txn.commit().await?;
        self.platform.outbox.notify();
        tracing::info!(referral_id = %updated.id, decision_id = %row.decision_id, "the patient opted in");
        Ok(OptInPage::OptedIn { board })
    }

    /// The token in `text` and its invitation, if it is ours and was given
    /// out.
    async fn invitation(
        &self,
        text: &str,
    ) -> Result<Option<(OptInToken, opt_in::invitation::Model)>, Error> {
        let Ok(token) = OptInToken::verify(&self.opt_in.key, text) else {
            return Ok(None);
        };
        let row = opt_in::find(self.db(), &token.decision_id.to_string()).await?;
        Ok(row.map(|row| (token, row)))
    }

    /// The board's own help and self-management text, if it set one.
    async fn patient_information(&self, board: BoardCode) -> Result<Option<String>, Error> {
        let rows = queries::board_settings_changes(self.db(), board.code()).await?;
        let Some(row) = rows.last() else {
            return Ok(None);
        };
        let settings: BoardSettings = serde_json::from_str(&row.settings_json)
            .map_err(|e| anyhow::anyhow!("stored settings {} are unreadable: {e}", row.id))?;
        Ok(settings.patient_information)
    }
}
