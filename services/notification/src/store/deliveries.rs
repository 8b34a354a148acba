//! Reading, taking and finishing deliveries. Every update names the row as
//! it was read (its status, and its claims where a worker holds it) and says
//! whether it changed it: a row another worker or request changed meanwhile
//! is left alone, and the caller decides what that means. Rows go in
//! encrypted and come out in the clear ([`super::encrypted`]).

use chrono::{DateTime, Utc};
use pathway_proto::BoardCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use pathway_common::crypto::FieldCipher;

use super::delivery::{self, Status};
use super::encrypted;

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    row: delivery::Model,
) -> Result<(), DbErr> {
    let row = encrypted::seal(cipher, row)?;
    delivery::Entity::insert(delivery::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    id: &str,
) -> Result<Option<delivery::Model>, DbErr> {
    let row = delivery::Entity::find_by_id(id.to_owned()).one(db).await?;
    Ok(row.map(|row| encrypted::open(cipher, row)).transpose()?)
}

/// A referral's deliveries, oldest first.
pub async fn of_referral<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    referral_id: &str,
) -> Result<Vec<delivery::Model>, DbErr> {
    let rows = delivery::Entity::find()
        .filter(delivery::Column::ReferralId.eq(referral_id))
        .order_by_asc(delivery::Column::CreatedAt)
        .order_by_asc(delivery::Column::Id)
        .all(db)
        .await?;
    Ok(encrypted::open_all(cipher, rows)?)
}

/// Which boards a listing covers.
pub enum Boards {
    All,
    These(Vec<BoardCode>),
}

/// Deliveries in `status` (every status when `None`) of `boards`, newest
/// first (by id: UUIDv7, so by time), older than the delivery `before` when
/// given, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    status: Option<Status>,
    boards: Boards,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut query = delivery::Entity::find();
    if let Some(status) = status {
        query = query.filter(delivery::Column::Status.eq(status));
    }
    if let Boards::These(boards) = boards {
        query = query.filter(delivery::Column::Board.is_in(boards.iter().map(|b| b.code())));
    }
    if let Some(before) = before {
        query = query.filter(delivery::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(encrypted::open_all(cipher, rows)?)
}

/// What is due at `now`: planned deliveries, and deliveries left `sending`
/// past their lease, oldest first. Every instance may read the same rows:
/// [`take`] lets one of them have each.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let rows = delivery::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(delivery::Column::Status.eq(Status::Planned))
                        .add(delivery::Column::WaitsFor.is_null()),
                )
                .add(
                    Condition::all()
                        .add(delivery::Column::Status.eq(Status::Sending))
                        .add(delivery::Column::LeaseUntil.lt(now)),
                ),
        )
        .order_by_asc(delivery::Column::CreatedAt)
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(encrypted::open_all(cipher, rows)?)
}

/// Take `row` for this worker until `lease_until`: `next` (`sending`), one
/// claim more. `None` when another took it first: the update names the
/// status and the claim count as read, so of two instances (or a delivery
/// taken over after its lease lapsed) exactly one changes the row.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    row: &delivery::Model,
    next: Status,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<delivery::Model>, DbErr> {
    let result = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(next))
        .col_expr(delivery::Column::Claims, Expr::value(row.claims + 1))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(row.id.clone()))
        .filter(delivery::Column::Claims.eq(row.claims))
        .filter(delivery::Column::Status.eq(row.status))
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then(|| delivery::Model {
        status: next,
        claims: row.claims + 1,
        lease_until: Some(lease_until),
        updated_at: now,
        ..row.clone()
    }))
}

/// Keep the account a taken delivery goes out through; false when another
/// worker took it since.
pub async fn keep_account<C: ConnectionTrait>(
    db: &C,
    row: &delivery::Model,
    account: Option<String>,
) -> Result<bool, DbErr> {
    let updated = delivery::Entity::update_many()
        .col_expr(delivery::Column::Account, Expr::value(account))
        .filter(delivery::Column::Id.eq(row.id.clone()))
        .filter(delivery::Column::Claims.eq(row.claims))
        .filter(delivery::Column::Status.eq(Status::Sending))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// How a send ended.
pub enum End {
    Sent { gateway_id: String },
    Failed { reason: String },
}

/// Record how a taken delivery ended: `next` (`sent` or `failed`),
/// `attempts` in all, through `gateway`. False when another worker took it
/// since.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    row: &delivery::Model,
    next: Status,
    end: &End,
    attempts: i32,
    gateway: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            delivery::Column::Gateway,
            Expr::value(gateway.map(str::to_owned)),
        )
        .filter(delivery::Column::Id.eq(row.id.clone()))
        .filter(delivery::Column::Claims.eq(row.claims))
        .filter(delivery::Column::Status.eq(Status::Sending))
        .col_expr(delivery::Column::Status, Expr::value(next));
    update = match end {
        End::Sent { gateway_id } => update
            .col_expr(delivery::Column::GatewayId, Expr::value(gateway_id.clone()))
            .col_expr(delivery::Column::SentAt, Expr::value(now))
            .col_expr(
                delivery::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            // Sent: the contact detail is no longer needed here.
            .col_expr(delivery::Column::Address, Expr::value(String::new())),
        End::Failed { reason } => {
            update.col_expr(delivery::Column::LastError, Expr::value(reason.clone()))
        }
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// The failed delivery `row` moved to `next` (`planned`) to go to
/// `address`; false when it is no longer failed.
pub async fn plan_again<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    row: &delivery::Model,
    next: Status,
    address: String,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let id = row.id.as_str();
    let address = encrypted::seal_address(cipher, &row.board, id, address)?;
    let updated = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(next))
        .col_expr(delivery::Column::Address, Expr::value(address))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id.to_owned()))
        .filter(delivery::Column::Status.eq(Status::Failed))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The forward `forward_id` has ended: its held notice with `send` as its
/// template is due now, and the one with `drop` goes (it was never due, so
/// no one saw it). Answers the cause ids of the notices now due.
pub async fn release_held<C: ConnectionTrait>(
    db: &C,
    forward_id: &str,
    send: &str,
    drop: &str,
) -> Result<Vec<String>, DbErr> {
    let due: Vec<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::CauseEventId)
        .filter(delivery::Column::WaitsFor.eq(forward_id))
        .filter(delivery::Column::Template.eq(send))
        .into_tuple()
        .all(db)
        .await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::WaitsFor.eq(forward_id))
        .filter(delivery::Column::Template.eq(drop))
        .filter(delivery::Column::Status.eq(Status::Planned))
        .exec(db)
        .await?;
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::WaitsFor,
            Expr::value(Option::<String>::None),
        )
        .filter(delivery::Column::WaitsFor.eq(forward_id))
        .filter(delivery::Column::Template.eq(send))
        .exec(db)
        .await?;
    Ok(due)
}

/// The messages held until the delivery `forward_id` has ended.
pub async fn held_by<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    forward_id: &str,
) -> Result<Vec<delivery::Model>, DbErr> {
    let rows = delivery::Entity::find()
        .filter(delivery::Column::WaitsFor.eq(forward_id))
        .filter(delivery::Column::Status.eq(Status::Planned))
        .all(db)
        .await?;
    Ok(encrypted::open_all(cipher, rows)?)
}

/// The held `row`, with its words as given, is due now; false when it was
/// released already.
pub async fn release_reworded<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    row: delivery::Model,
    forward_id: &str,
) -> Result<bool, DbErr> {
    let row = encrypted::seal(cipher, row)?;
    let updated = delivery::Entity::update_many()
        .col_expr(delivery::Column::Subject, Expr::value(row.subject))
        .col_expr(delivery::Column::Body, Expr::value(row.body))
        .col_expr(delivery::Column::Document, Expr::value(row.document))
        .col_expr(
            delivery::Column::WaitsFor,
            Expr::value(Option::<String>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(row.updated_at))
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::WaitsFor.eq(forward_id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Keep what the gateway last said of `row`; with `undelivered`, the
/// delivery moves to that status (`failed`) for that reason. False when the
/// row changed since it was read.
pub async fn keep_gateway_status<C: ConnectionTrait>(
    db: &C,
    row: &delivery::Model,
    gateway_status: &str,
    undelivered: Option<(Status, &str)>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::GatewayStatus,
            Expr::value(gateway_status.to_owned()),
        )
        .col_expr(delivery::Column::GatewayStatusAt, Expr::value(now))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(row.id.clone()))
        .filter(delivery::Column::Status.eq(row.status));
    if let Some((next, reason)) = undelivered {
        update = update
            .col_expr(delivery::Column::Status, Expr::value(next))
            .col_expr(delivery::Column::LastError, Expr::value(reason.to_owned()));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}
