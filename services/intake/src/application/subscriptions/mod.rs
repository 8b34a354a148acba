//! FHIR `Subscription`s to referrals' Tasks: create one, read it, delete
//! it ([`deliver`] sends what they are owed).
//!
//! Who may subscribe to what is who may search for what: a referrer to
//! its own referrals (and not to a practice other referrers have referred
//! from while it has not), a clinician to its boards' referrals. The
//! endpoint must be one every board the subscription covers may send
//! webhooks to (`notification.allowed_hosts`, https, public addresses
//! unless the board allows private ones; https only in production), the
//! same rule as a referral's webhook reply address; delivery checks it again.

use chrono::Utc;
use pathway_common::auth::{AuthError, Caller, Role};
use pathway_common::profile::Profile;
use pathway_proto::board::BoardSettings;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};

use super::{Error, Intake};
use crate::domain::fhir::Issue;
use crate::domain::fhir::subscription::{
    CRITERIA_PATH, ENDPOINT_PATH, Payload, SubscriptionRequest, SubscriptionView,
};
use crate::store::subscriptions::{self, ACTIVE, subscription};
use crate::store::{queries, referral};

pub mod deliver;

/// Why a subscription was not created.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// Elements the caller sent wrong, by FHIRPath.
    #[error("{} element(s) not valid", .0.len())]
    Invalid(Vec<Issue>),
    #[error(transparent)]
    Application(#[from] Error),
}

impl From<sea_orm::DbErr> for SubscribeError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Application(error.into())
    }
}

/// The settings `board` last stored, if any.
pub(crate) async fn board_settings<C: ConnectionTrait>(
    db: &C,
    board: &str,
) -> Result<Option<BoardSettings>, Error> {
    let Some(row) = queries::latest_board_settings(db, board).await? else {
        return Ok(None);
    };
    let settings = serde_json::from_str(&row.settings_json).map_err(|e| {
        Error::Unexpected(anyhow::anyhow!(
            "stored settings {} of {} are unreadable: {e}",
            row.id,
            row.board
        ))
    })?;
    Ok(Some(settings))
}

/// Why `board` may not send notifications to `endpoint`, if it may not.
pub(crate) async fn endpoint_problem<C: ConnectionTrait>(
    db: &C,
    board: &str,
    endpoint: &str,
) -> Result<Option<String>, Error> {
    if Profile::from_env()? == Profile::Production && !endpoint.starts_with("https://") {
        return Ok(Some(
            "must be https: a production deployment sends nothing over plain http".to_owned(),
        ));
    }
    let settings = board_settings(db, board).await?;
    Ok(match settings.and_then(|s| s.notification) {
        Some(section) => section
            .webhook_url_problem(endpoint)
            .map(|why| format!("board {board}: {why}")),
        None => Some(format!(
            "board {board} lists no host its webhooks may go to (notification.allowed_hosts): ask the board to allow your system's host"
        )),
    })
}

fn view(row: &subscription::Model) -> SubscriptionView {
    SubscriptionView {
        id: row.id.clone(),
        criteria: row.criteria.clone(),
        reason: row.reason.clone(),
        endpoint: row.endpoint.clone(),
        payload: Payload::from_mime(row.payload.as_deref()),
        headers: serde_json::from_str(&row.headers).unwrap_or_default(),
        status: row.status.clone(),
        error: row.error.clone(),
        updated_at: row.updated_at,
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("no Subscription {id} that this token may see"))
}

impl Intake {
    /// Subscribe `caller` to the Tasks `request` names.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        request: SubscriptionRequest,
    ) -> Result<SubscriptionView, SubscribeError> {
        if !matches!(caller.role, Role::Referrer | Role::Clinician) {
            return Err(Error::Forbidden(AuthError::Forbidden(format!(
                "the role {} cannot subscribe to referrals: only referrers and clinicians",
                caller.role
            )))
            .into());
        }
        let boards: Vec<String> = match &request.board {
            Some(board) if caller.may_act_for(board) => vec![board.clone()],
            Some(board) => {
                return Err(Error::Forbidden(AuthError::Forbidden(format!(
                    "criteria: the token may not act for the board {board}"
                )))
                .into());
            }
            None if caller.boards.contains("*") => {
                return Err(SubscribeError::Invalid(vec![Issue::new(
                    "value",
                    CRITERIA_PATH,
                    "criteria: this token is for every board: name one with &owner=<board>",
                )]));
            }
            None => caller.boards.iter().cloned().collect(),
        };
        if boards.is_empty() {
            return Err(Error::Forbidden(AuthError::Forbidden(
                "the token names no board".to_owned(),
            ))
            .into());
        }
        let txn = self.db().begin().await.map_err(Error::from)?;
        if caller.role == Role::Referrer {
            // Another referrer's practice: refused, rather than a
            // subscription that could never match.
            let practice = referral::Entity::find()
                .filter(referral::Column::PracticeCode.eq(request.practice_code.as_str()));
            let theirs = practice
                .clone()
                .filter(referral::Column::ReferrerSubject.eq(caller.subject.as_str()))
                .count(&txn)
                .await?;
            let others = practice
                .filter(referral::Column::ReferrerSubject.ne(caller.subject.as_str()))
                .count(&txn)
                .await?;
            if theirs == 0 && others > 0 {
                return Err(Error::Forbidden(AuthError::Forbidden(format!(
                    "criteria: practice {} is another referrer's: subscribe to your own practice",
                    request.practice_code
                )))
                .into());
            }
        }
        let mut problems = Vec::new();
        for board in &boards {
            if let Some(why) = endpoint_problem(&txn, board, &request.endpoint).await? {
                problems.push(Issue::new("value", ENDPOINT_PATH, why));
            }
        }
        if !problems.is_empty() {
            return Err(SubscribeError::Invalid(problems));
        }
        let now = Utc::now();
        let row = subscription::Model {
            id: uuid::Uuid::now_v7().to_string(),
            owner_subject: caller.subject.clone(),
            owner_role: caller.role.as_str().to_owned(),
            practice_code: request.practice_code,
            boards: boards.join(","),
            criteria: request.criteria,
            reason: request.reason,
            endpoint: request.endpoint,
            payload: request.payload.mime().map(str::to_owned),
            headers: serde_json::to_string(&request.headers)
                .map_err(|e| Error::from(anyhow::Error::from(e)))?,
            status: ACTIVE.to_owned(),
            error: None,
            created_at: now,
            updated_at: now,
        };
        let active: subscription::ActiveModel = row.clone().into();
        subscription::Entity::insert(active).exec(&txn).await?;
        txn.commit().await.map_err(Error::from)?;
        tracing::info!(subscription_id = %row.id, "FHIR subscription created");
        Ok(view(&row))
    }

    /// The subscription `id`, if `caller` made it.
    pub async fn subscription(&self, caller: &Caller, id: &str) -> Result<SubscriptionView, Error> {
        let row = subscription::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .filter(|row| row.owner_subject == caller.subject)
            .ok_or_else(|| not_found(id))?;
        Ok(view(&row))
    }

    /// Delete the subscription `id`, if `caller` made it; nothing more is
    /// sent for it, whatever was owed.
    pub async fn unsubscribe(&self, caller: &Caller, id: &str) -> Result<(), Error> {
        let txn = self.db().begin().await?;
        let row = subscription::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .filter(|row| row.owner_subject == caller.subject)
            .ok_or_else(|| not_found(id))?;
        subscriptions::abandon_pending(&txn, &row.id, "the subscription was deleted").await?;
        subscription::Entity::delete_by_id(row.id.clone())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(subscription_id = %row.id, "FHIR subscription deleted");
        Ok(())
    }
}

/// Mark the subscription `id` in error with `why`: nothing more is sent.
pub(crate) async fn set_error<C: ConnectionTrait>(
    db: &C,
    id: &str,
    why: &str,
) -> Result<(), sea_orm::DbErr> {
    let Some(row) = subscription::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut active: subscription::ActiveModel = row.into();
    active.status = Set(subscriptions::ERROR.to_owned());
    active.error = Set(Some(why.to_owned()));
    active.updated_at = Set(Utc::now());
    sea_orm::ActiveModelTrait::update(active, db).await?;
    subscriptions::abandon_pending(db, id, "the subscription is in error").await?;
    Ok(())
}
