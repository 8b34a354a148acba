//! A referral as the vetting clinician sees it: the worklist row, the
//! referral's identifiable content read from intake (every view audited),
//! the questions asked and their answers, the outcomes recorded, and what
//! was done to it.

use pathway_common::audit::{self, AuditRow};
use pathway_common::auth::Caller;
use pathway_proto::BoardCode;
use pathway_proto::board::BoardSettings;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::views::{InformationRequestView, OutcomeView, ReferralDetail};
use super::worklist_view::row_view;
use super::{Error, Vetting, audit_referral};
use crate::domain::claim::Action;
use crate::intake;
use crate::store::{board_settings, information_request, outcome};

/// Why clinicians read a referral's identifiable content.
const PURPOSE: &str = "clinical vetting";
/// The audit row's purpose: the look-up's code and the reason, as intake's
/// own audit row names them (`vetting_view: clinical vetting`).
const AUDITED_PURPOSE: &str = "vetting_view: clinical vetting";

impl Vetting {
    /// GET /v1/referrals/{id}: the referral with its identifiable content,
    /// read from intake; one audit row per view.
    pub async fn referral(&self, caller: &Caller, id: &str) -> Result<ReferralDetail, Error> {
        let row = self.load(self.db(), caller, id).await?;
        let identifiable = intake::referral_of(&self.intake, id, PURPOSE)
            .await?
            .ok_or(Error::NotFound)?;
        let history = board_settings::history(self.db(), row.board_code()?).await?;
        let requests =
            information_request::of_referrals(self.db(), [row.referral_id.clone()]).await?;
        let outcomes = outcome::of_referral(self.db(), &self.cipher, id).await?;
        let txn = self.db().begin().await?;
        audit_referral(
            &txn,
            caller,
            "referral.read_identifiable",
            &row,
            AUDITED_PURPOSE,
        )
        .await?;
        txn.commit().await?;

        let now = self.clock.now();
        let asked: Vec<&information_request::Model> = requests.iter().collect();
        let view = row_view(caller, &row, &history, &asked, now)?;
        let information_requests = requests
            .iter()
            .map(|r| {
                Ok(InformationRequestView {
                    id: r.id.clone(),
                    question: r.question(&self.cipher).map_err(sea_orm::DbErr::from)?,
                    requested_by: r.requested_by.clone(),
                    requested_by_name: r.requested_by_name.clone(),
                    requested_at: r.requested_at,
                    answered_at: r.answered_at,
                    overdue_at: r.overdue_at,
                    answer: identifiable.answers.get(&r.id).cloned(),
                })
            })
            .collect::<Result<_, Error>>()?;
        let outcomes = outcomes
            .into_iter()
            .map(|o| OutcomeView {
                outcome: serde_json::from_str(&o.body).unwrap_or_default(),
                id: o.id,
                clinician: o.clinician,
                clinician_name: o.clinician_name,
                recorded_at: o.recorded_at,
                correction: o.correction,
            })
            .collect();
        Ok(ReferralDetail {
            allowed_actions: Action::allowed(view.status, view.claimed_by_me),
            row: view,
            referral: identifiable.content,
            information_requests,
            outcomes,
        })
    }

    /// What was done to a referral (claims, questions, outcomes), oldest
    /// first, for the history on the clinician's page.
    pub async fn actions_on(&self, caller: &Caller, id: &str) -> Result<Vec<AuditRow>, Error> {
        let row = self.load(self.db(), caller, id).await?;
        Ok(audit::entity::Entity::find()
            .filter(audit::entity::Column::ReferralId.eq(row.referral_id))
            .filter(audit::entity::Column::Action.ne("referral.read_identifiable"))
            .order_by_asc(audit::entity::Column::At)
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| AuditRow {
                at: r.at,
                actor: r.actor,
                actor_role: r.actor_role,
                action: r.action,
                referral_id: r.referral_id,
                source: r.source,
                purpose: r.purpose,
            })
            .collect())
    }

    /// The board's settings as vetting last heard them.
    pub async fn settings_of(&self, board: BoardCode) -> Result<BoardSettings, Error> {
        Ok(board_settings::of_board(self.db(), board).await?)
    }
}
