//! The worklist: one row per referral on the pathway, with no patient
//! identifier (it is built from the de-identified `referral.received`).

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TryInsertResult,
};

use crate::domain::claim::Claim;
use crate::domain::status::Status;

pub use entity::{ActiveModel, Column, Entity, Model, StoredStatus};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "worklist")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_id: String,
        pub board: String,
        pub status: StoredStatus,
        pub received_at: DateTimeUtc,
        /// Red flag codes as a JSON array, e.g. `["history_of_cancer"]`.
        #[sea_orm(column_type = "Text")]
        pub red_flags: String,
        pub red_flag_count: i32,
        pub pain_intensity: i32,
        pub pain_duration_months: i32,
        pub practice_code: String,
        pub age_band: String,
        pub sex: String,
        pub re_referral: bool,
        /// Subject of the clinician holding the claim.
        pub claimed_by: Option<String>,
        pub claimed_by_name: Option<String>,
        pub lease_expires_at: Option<DateTimeUtc>,
        /// An answer from the referrer arrived since the last vetting.
        pub answer_received: bool,
        pub updated_at: DateTimeUtc,
        /// Bumped by every change.
        pub version: i64,
        /// Held off the worklist at the patient's request: `erased` (for
        /// good) or `restricted` (until lifted); `None` when not held.
        pub held: Option<String>,
    }

    /// [`crate::domain::status::Status`] as the `status` column holds it,
    /// under the same text it always had.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum StoredStatus {
        #[sea_orm(string_value = "awaiting_vetting")]
        AwaitingVetting,
        #[sea_orm(string_value = "in_vetting")]
        InVetting,
        #[sea_orm(string_value = "info_requested")]
        InfoRequested,
        #[sea_orm(string_value = "vetted")]
        Vetted,
        #[sea_orm(string_value = "withdrawn")]
        Withdrawn,
        #[sea_orm(string_value = "closed")]
        Closed,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<Status> for StoredStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::AwaitingVetting => Self::AwaitingVetting,
            Status::InVetting => Self::InVetting,
            Status::InfoRequested => Self::InfoRequested,
            Status::Vetted => Self::Vetted,
            Status::Withdrawn => Self::Withdrawn,
            Status::Closed => Self::Closed,
        }
    }
}

impl From<StoredStatus> for Status {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::AwaitingVetting => Self::AwaitingVetting,
            StoredStatus::InVetting => Self::InVetting,
            StoredStatus::InfoRequested => Self::InfoRequested,
            StoredStatus::Vetted => Self::Vetted,
            StoredStatus::Withdrawn => Self::Withdrawn,
            StoredStatus::Closed => Self::Closed,
        }
    }
}

impl Model {
    pub fn status(&self) -> Status {
        self.status.into()
    }

    /// The row's status and claim, for the domain's rules.
    pub fn claim(&self) -> Claim<'_> {
        Claim {
            status: self.status(),
            holder: self.claimed_by.as_deref(),
            holder_name: self.claimed_by_name.as_deref(),
            expires_at: self.lease_expires_at,
        }
    }

    /// The board column, parsed (a row's board came from a parsed event).
    pub fn board_code(&self) -> anyhow::Result<BoardCode> {
        BoardCode::parse(&self.board)
            .map_err(|e| anyhow::anyhow!("the worklist row of {} has board {e}", self.referral_id))
    }

    /// Red flag codes, e.g. `history_of_cancer`.
    pub fn red_flags(&self) -> Vec<String> {
        serde_json::from_str(&self.red_flags).unwrap_or_default()
    }
}

pub async fn find<C: ConnectionTrait>(db: &C, referral_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(referral_id.to_owned()).one(db).await
}

/// A board's rows in `statuses` (only `claimed_by`'s when given), oldest
/// first; never one held at the patient's request.
pub async fn of_board<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
    statuses: &[Status],
    claimed_by: Option<&str>,
) -> Result<Vec<Model>, DbErr> {
    let stored: Vec<StoredStatus> = statuses.iter().map(|s| (*s).into()).collect();
    let mut select = Entity::find()
        .filter(Column::Board.eq(board.code()))
        .filter(Column::Status.is_in(stored))
        .filter(Column::Held.is_null());
    if let Some(subject) = claimed_by {
        select = select.filter(Column::ClaimedBy.eq(subject));
    }
    select.order_by_asc(Column::ReceivedAt).all(db).await
}

/// Claims whose lease ran out by `now`.
pub async fn lapsed<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Status.eq(StoredStatus::InVetting))
        .filter(Column::LeaseExpiresAt.lte(now))
        .all(db)
        .await
}

/// A new referral on the worklist; one already there is left as it is.
/// Answers whether the row was added.
pub async fn insert_new<C: ConnectionTrait>(db: &C, row: ActiveModel) -> Result<bool, DbErr> {
    let inserted = Entity::insert(row)
        .on_conflict_do_nothing_on([Column::ReferralId])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// A clinician's claim as a row holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub by: String,
    pub by_name: Option<String>,
    pub until: DateTime<Utc>,
}

/// A change to a row, made with [`save`]; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub status: Option<Status>,
    /// `Some(None)` drops the claim.
    pub claim: Option<Option<Held>>,
    pub answer_received: Option<bool>,
}

impl Change {
    pub fn to(status: Status) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// Drop any claim.
    pub fn unclaimed(mut self) -> Self {
        self.claim = Some(None);
        self
    }

    pub fn claimed_by(mut self, subject: &str, name: Option<&str>, until: DateTime<Utc>) -> Self {
        self.claim = Some(Some(Held {
            by: subject.to_owned(),
            by_name: name.map(str::to_owned),
            until,
        }));
        self
    }

    pub fn answer_received(mut self, received: bool) -> Self {
        self.answer_received = Some(received);
        self
    }
}

/// What [`save`] found.
#[derive(Debug)]
pub enum Saved {
    /// The row as saved.
    Saved(Model),
    /// Somebody changed the row since it was read: nothing was written. The
    /// row as it is now, if it is still there.
    Changed(Option<Model>),
}

/// Save `change` to `row` only if nobody changed it since it was read, and
/// bump its version.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    row: &Model,
    now: DateTime<Utc>,
    change: Change,
) -> Result<Saved, DbErr> {
    let mut active = ActiveModel {
        updated_at: Set(now),
        version: Set(row.version + 1),
        ..Default::default()
    };
    if let Some(status) = change.status {
        active.status = Set(status.into());
    }
    if let Some(claim) = change.claim {
        let (subject, name, until) = match claim {
            Some(held) => (Some(held.by), held.by_name, Some(held.until)),
            None => (None, None, None),
        };
        active.claimed_by = Set(subject);
        active.claimed_by_name = Set(name);
        active.lease_expires_at = Set(until);
    }
    if let Some(received) = change.answer_received {
        active.answer_received = Set(received);
    }
    let updated = Entity::update_many()
        .set(active)
        .filter(Column::ReferralId.eq(row.referral_id.clone()))
        .filter(Column::Version.eq(row.version))
        .exec(db)
        .await?;
    let now_row = find(db, &row.referral_id).await?;
    Ok(match (updated.rows_affected, now_row) {
        (1, Some(saved)) => Saved::Saved(saved),
        (_, current) => Saved::Changed(current),
    })
}

#[cfg(test)]
#[path = "tests/worklist.rs"]
mod tests;
