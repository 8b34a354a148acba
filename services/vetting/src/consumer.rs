//! Keeps the worklist in step with what intake publishes: new referrals,
//! withdrawals, answers from the referrer, opt-ins and closures, and each
//! board's settings.

use chrono::Utc;
use pathway_common::inbox::{HandleError, Handler};
use pathway_proto::v1::{self as proto, Event, Payload};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, sea_query::OnConflict,
};

use crate::db::{board_settings, information_request, worklist};
use crate::domain::{red_flag_code, status};

pub fn filters() -> Vec<String> {
    vec![
        proto::filter_all_boards("referral", None),
        proto::filter_all_boards("board", None),
    ]
}

pub struct WorklistProjection;

impl Handler for WorklistProjection {
    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> Result<(), HandleError> {
        let Some(payload) = &event.payload else {
            return Err(HandleError::Rejected("event without payload".into()));
        };
        let at = event.occurred_at().unwrap_or_else(Utc::now);
        match payload {
            Payload::ReferralReceived(received) => {
                if event.referral_id.is_empty() {
                    return Err(HandleError::Rejected(
                        "referral.received without a referral id".into(),
                    ));
                }
                let flags: Vec<String> = received
                    .red_flags()
                    .filter(|f| *f != proto::RedFlag::Unspecified)
                    .map(red_flag_code)
                    .collect();
                let patient = received.patient.clone().unwrap_or_default();
                let sex = match patient.sex() {
                    proto::Sex::Male => "male",
                    proto::Sex::Female => "female",
                    _ => "not_known",
                };
                let row = worklist::ActiveModel {
                    referral_id: Set(event.referral_id.clone()),
                    board: Set(event.board.clone()),
                    status: Set(status::AWAITING_VETTING.to_owned()),
                    received_at: Set(received
                        .received_at
                        .as_ref()
                        .and_then(proto::from_timestamp)
                        .unwrap_or(at)),
                    red_flag_count: Set(i32::try_from(flags.len()).unwrap_or(i32::MAX)),
                    red_flags: Set(serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into())),
                    pain_intensity: Set(i32::try_from(received.pain_intensity).unwrap_or(0)),
                    pain_duration_months: Set(
                        i32::try_from(received.pain_duration_months).unwrap_or(0)
                    ),
                    practice_code: Set(received.practice_code.clone()),
                    age_band: Set(patient.age_band.clone()),
                    sex: Set(sex.to_owned()),
                    re_referral: Set(received.re_referral),
                    claimed_by: Set(None),
                    claimed_by_name: Set(None),
                    lease_expires_at: Set(None),
                    answer_received: Set(false),
                    updated_at: Set(at),
                    version: Set(1),
                };
                worklist::Entity::insert(row)
                    .on_conflict_do_nothing_on([worklist::Column::ReferralId])
                    .exec(txn)
                    .await?;
            }
            Payload::ReferralWithdrawn(_) => {
                move_to(txn, &event.referral_id, status::WITHDRAWN, at, |_| {}).await?;
            }
            Payload::ReferralClosed(_) => {
                move_to(txn, &event.referral_id, status::CLOSED, at, |_| {}).await?;
            }
            Payload::ReferralOptedIn(_) => {
                move_to(
                    txn,
                    &event.referral_id,
                    status::AWAITING_VETTING,
                    at,
                    |_| {},
                )
                .await?;
            }
            Payload::ReferralInfoProvided(provided) => {
                if let Some(request) =
                    information_request::Entity::find_by_id(provided.information_request_id.clone())
                        .one(txn)
                        .await?
                    && request.answered_at.is_none()
                {
                    let mut active: information_request::ActiveModel = request.into();
                    active.answered_at = Set(Some(at));
                    active.update(txn).await?;
                }
                let waiting = worklist::Entity::find_by_id(event.referral_id.clone())
                    .one(txn)
                    .await?
                    .is_some_and(|row| row.status == status::INFO_REQUESTED);
                if waiting {
                    move_to(
                        txn,
                        &event.referral_id,
                        status::AWAITING_VETTING,
                        at,
                        |row| {
                            row.answer_received = Set(true);
                        },
                    )
                    .await?;
                }
            }
            Payload::BoardSettingsChanged(changed) => {
                let parsed: Result<pathway_proto::board::BoardSettings, _> =
                    serde_json::from_str(&changed.settings_json);
                if let Err(error) = parsed {
                    return Err(HandleError::Rejected(format!(
                        "board settings of {} are not readable: {error}",
                        event.board
                    )));
                }
                board_settings::Entity::insert(board_settings::ActiveModel {
                    board: Set(event.board.clone()),
                    settings_json: Set(changed.settings_json.clone()),
                    changed_at: Set(at),
                })
                .on_conflict(
                    OnConflict::column(board_settings::Column::Board)
                        .update_columns([
                            board_settings::Column::SettingsJson,
                            board_settings::Column::ChangedAt,
                        ])
                        .to_owned(),
                )
                .exec(txn)
                .await?;
            }
            // Referrals routed to the standard service are not vetted here.
            _ => {}
        }
        Ok(())
    }
}

/// Move a referral on the worklist to `next`, dropping any claim; a referral
/// vetting never saw (routed to the standard service) is left alone.
async fn move_to(
    txn: &DatabaseTransaction,
    referral_id: &str,
    next: &str,
    at: chrono::DateTime<Utc>,
    also: impl FnOnce(&mut worklist::ActiveModel),
) -> Result<(), HandleError> {
    let Some(row) = worklist::Entity::find_by_id(referral_id.to_owned())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let version = row.version + 1;
    let mut active: worklist::ActiveModel = row.into();
    active.status = Set(next.to_owned());
    active.claimed_by = Set(None);
    active.claimed_by_name = Set(None);
    active.lease_expires_at = Set(None);
    active.updated_at = Set(at);
    active.version = Set(version);
    also(&mut active);
    active.update(txn).await?;
    Ok(())
}
