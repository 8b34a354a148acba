//! Reading and keeping each board's notification settings.

use pathway_proto::BoardCode;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use super::board_notification;

/// The settings `board` last set, read through `db` (the caller's
/// transaction, when there is one).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    board: BoardCode,
) -> Result<Option<board_notification::Model>, DbErr> {
    board_notification::Entity::find_by_id(board.code().to_owned())
        .one(db)
        .await
}

/// Keep `row` as the board's settings, unless a newer change is already
/// kept: a replay of an older change does not undo a newer one.
pub async fn keep<C: ConnectionTrait>(db: &C, row: board_notification::Model) -> Result<(), DbErr> {
    let existing = board_notification::Entity::find_by_id(row.board.clone())
        .one(db)
        .await?;
    let newer_kept = existing
        .as_ref()
        .is_some_and(|current| current.changed_at > row.changed_at);
    let active = board_notification::ActiveModel {
        board: Set(row.board),
        notification_json: Set(row.notification_json),
        changed_by: Set(row.changed_by),
        changed_at: Set(row.changed_at),
        event_id: Set(row.event_id),
    };
    match existing {
        None => {
            board_notification::Entity::insert(active).exec(db).await?;
        }
        Some(_) if newer_kept => {}
        Some(_) => {
            board_notification::Entity::update(active).exec(db).await?;
        }
    }
    Ok(())
}
