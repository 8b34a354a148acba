//! Row functions shared by the use cases and the consumer: a referral's
//! status, history and open-referral lock, its information requests, and the
//! boards' switches and settings.

use chrono::{DateTime, NaiveDate, Utc};
use pathway_common::outbox;
use pathway_proto::v1::Event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{
    board_settings_change, history, information_request, open_referral, pathway_change, referral,
};
use crate::domain::Status;

/// Write `event` to the outbox and the referral's history.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    status_after: Status,
    detail: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    outbox::enqueue(db, event).await?;
    record_history(db, event, status_after, detail).await
}

/// Add `event` to the referral's history (no publication).
pub async fn record_history<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    status_after: Status,
    detail: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    let (aggregate, name) = event.kind().unwrap_or(("unknown", "unknown"));
    history::Entity::insert(history::ActiveModel {
        event_id: Set(event.event_id.clone()),
        referral_id: Set(event.referral_id.clone()),
        kind: Set(format!("{aggregate}.{name}")),
        status: Set(status_after.into()),
        occurred_at: Set(event.occurred_at().unwrap_or_else(Utc::now)),
        actor: Set(event.actor.clone()),
        detail: Set(detail.map(|d| d.to_string())),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Move the referral to `next`, bumping its version (the ETag), and owe
/// the matching FHIR Subscriptions a notification.
pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    row: referral::Model,
    next: Status,
) -> Result<referral::Model, DbErr> {
    let version = row.version + 1;
    let mut active: referral::ActiveModel = row.into();
    active.status = Set(next.into());
    active.version = Set(version);
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await?;
    // The Task changed: owe its subscribers a notification, in this transaction.
    super::subscriptions::enqueue_for(db, &updated).await?;
    Ok(updated)
}

/// The referral is no longer open: the patient may be referred to the board again.
pub async fn release_open_lock<C: ConnectionTrait>(db: &C, referral_id: &str) -> Result<(), DbErr> {
    open_referral::Entity::delete_many()
        .filter(open_referral::Column::ReferralId.eq(referral_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A referral's history, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<history::Model>, DbErr> {
    history::Entity::find()
        .filter(history::Column::ReferralId.eq(referral_id))
        .order_by_asc(history::Column::OccurredAt)
        .order_by_asc(history::Column::EventId)
        .all(db)
        .await
}

/// A referral's information requests, oldest first.
pub async fn information_requests<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<information_request::Model>, DbErr> {
    information_request::Entity::find()
        .filter(information_request::Column::ReferralId.eq(referral_id))
        .order_by_asc(information_request::Column::RequestedAt)
        .all(db)
        .await
}

/// A referral's information requests not answered yet, newest first.
pub async fn open_information_requests<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<information_request::Model>, DbErr> {
    information_request::Entity::find()
        .filter(information_request::Column::ReferralId.eq(referral_id))
        .filter(information_request::Column::AnsweredAt.is_null())
        .order_by_desc(information_request::Column::RequestedAt)
        .all(db)
        .await
}

/// Whether referrals received on the Scottish day `on` for `board` go onto
/// the remote pathway: the latest switch that has taken effect by then
/// decides; never switched means off.
pub async fn pathway_enabled<C: ConnectionTrait>(
    db: &C,
    board: &str,
    on: NaiveDate,
) -> Result<bool, DbErr> {
    Ok(pathway_change::Entity::find()
        .filter(pathway_change::Column::Board.eq(board))
        .filter(pathway_change::Column::EffectiveDate.lte(on))
        .order_by_desc(pathway_change::Column::EffectiveDate)
        .order_by_desc(pathway_change::Column::ChangedAt)
        .one(db)
        .await?
        .is_some_and(|c| c.enabled))
}

/// Every switch of `board`, in the order they take effect.
pub async fn pathway_changes<C: ConnectionTrait>(
    db: &C,
    board: &str,
) -> Result<Vec<pathway_change::Model>, DbErr> {
    pathway_change::Entity::find()
        .filter(pathway_change::Column::Board.eq(board))
        .order_by_asc(pathway_change::Column::EffectiveDate)
        .order_by_asc(pathway_change::Column::ChangedAt)
        .all(db)
        .await
}

/// The settings of `board` in force today in Scotland, if any it stored
/// are: of the changes in force by today, the one from the latest day, and
/// of two from one day the one saved later. A change kept before effective
/// dates is in force from the day it was saved.
pub async fn latest_board_settings<C: ConnectionTrait>(
    db: &C,
    board: &str,
) -> Result<Option<board_settings_change::Model>, DbErr> {
    let today = pathway_proto::days::today();
    let changes = board_settings_changes(db, board).await?;
    Ok(changes
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let from = row
                .effective_date
                .unwrap_or_else(|| pathway_proto::days::day_of(row.changed_at));
            (from, i, row)
        })
        .filter(|(from, _, _)| *from <= today)
        .max_by_key(|(from, i, _)| (*from, *i))
        .map(|(_, _, row)| row))
}

/// Every settings document `board` stored, in the order saved.
pub async fn board_settings_changes<C: ConnectionTrait>(
    db: &C,
    board: &str,
) -> Result<Vec<board_settings_change::Model>, DbErr> {
    board_settings_change::Entity::find()
        .filter(board_settings_change::Column::Board.eq(board))
        .order_by_asc(board_settings_change::Column::ChangedAt)
        .order_by_asc(board_settings_change::Column::Id)
        .all(db)
        .await
}

/// Which referrals a search may return.
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter<'a> {
    /// `None`: every board.
    pub boards: Option<Vec<String>>,
    pub referrer_subject: Option<&'a str>,
    pub practice_code: Option<&'a str>,
    /// Modified at or after.
    pub since: Option<DateTime<Utc>>,
    /// Modified before.
    pub before: Option<DateTime<Utc>>,
    /// Only after this (modified at, id): where the previous page ended.
    pub after: Option<(DateTime<Utc>, &'a str)>,
}

/// Up to `limit` referrals matching `filter`, least recently modified first;
/// never one whose patient asked for erasure or restriction.
pub async fn search_referrals<C: ConnectionTrait>(
    db: &C,
    filter: &ReferralFilter<'_>,
    limit: u64,
) -> Result<Vec<referral::Model>, DbErr> {
    use referral::Column;
    let mut query = referral::Entity::find()
        .filter(Column::ErasedAt.is_null())
        .filter(Column::RestrictedAt.is_null());
    if let Some(boards) = &filter.boards {
        query = query.filter(Column::Board.is_in(boards.iter().cloned()));
    }
    if let Some(subject) = filter.referrer_subject {
        query = query.filter(Column::ReferrerSubject.eq(subject));
    }
    if let Some(code) = filter.practice_code {
        query = query.filter(Column::PracticeCode.eq(code));
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    if let Some(before) = filter.before {
        query = query.filter(Column::UpdatedAt.lt(before));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(
            Condition::any().add(Column::UpdatedAt.gt(at)).add(
                Condition::all()
                    .add(Column::UpdatedAt.eq(at))
                    .add(Column::Id.gt(id)),
            ),
        );
    }
    query
        .order_by_asc(Column::UpdatedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}
