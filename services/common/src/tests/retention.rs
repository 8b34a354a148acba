//! Unit tests of `retention.rs`, on SQLite always and on PostgreSQL when one
//! answers: the audit trail purged past a cutoff, in batches, one board at a
//! time, and the sweep's own audit row.

use chrono::{Duration, TimeZone};
use sea_orm::{ActiveValue::Set, DatabaseConnection, PaginatorTrait, Schema};

use super::*;
use crate::test_databases::Databases;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2018, 3, day, 12, 0, 0)
        .single()
        .expect("a valid time")
}

async fn audit_table(db: &DatabaseConnection) {
    let schema = Schema::new(db.get_database_backend());
    db.execute(&schema.create_table_from_entity(entity::Entity))
        .await
        .expect("the audit table");
}

async fn rows(db: &DatabaseConnection, board: &str, at: DateTime<Utc>, n: usize) {
    let models: Vec<entity::ActiveModel> = (0..n)
        .map(|_| entity::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            at: Set(at),
            actor: Set("clinician-1".into()),
            actor_role: Set("clinician".into()),
            action: Set("referral.read_identifiable".into()),
            referral_id: Set(Some(uuid::Uuid::now_v7().to_string())),
            board: Set(Some(board.into())),
            source: Set("127.0.0.1".into()),
            purpose: Set(Some("clinical vetting".into())),
        })
        .collect();
    for chunk in models.chunks(200) {
        entity::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("rows");
    }
}

async fn count(db: &DatabaseConnection, board: &str) -> u64 {
    entity::Entity::find()
        .filter(entity::Column::Board.eq(board))
        .count(db)
        .await
        .expect("count")
}

#[tokio::test]
async fn audit_rows_before_the_cutoff_go_in_batches_and_only_that_boards() {
    let databases = Databases::fresh().await;
    let highland = BoardCode::parse("highland").expect("a board");
    for (backend, db) in &databases.dbs {
        audit_table(db).await;
        // More than two batches before the cutoff, some on the cutoff's
        // instant and after it, and another board's old rows.
        rows(db, "highland", at(1), 2 * BATCH as usize + 7).await;
        rows(db, "highland", at(10), 3).await;
        rows(db, "highland", at(11), 4).await;
        rows(db, "fife", at(1), 5).await;

        let purged = in_batches(|| purge_audit_batch(db, highland, at(10)))
            .await
            .expect("purged");
        assert_eq!(purged, 2 * BATCH + 7, "{backend}");
        assert_eq!(
            count(db, "highland").await,
            7,
            "{backend}: on and after the cutoff stay"
        );
        assert_eq!(
            count(db, "fife").await,
            5,
            "{backend}: another board's rows stay"
        );
        let again = in_batches(|| purge_audit_batch(db, highland, at(10)))
            .await
            .expect("purged");
        assert_eq!(again, 0, "{backend}: a second sweep finds nothing");
    }
    databases.drop().await;
}

#[tokio::test]
async fn a_sweep_leaves_an_audit_row_saying_what_went_and_the_scottish_day() {
    let databases = Databases::fresh().await;
    let board = BoardCode::parse("orkney").expect("a board");
    for (backend, db) in &databases.dbs {
        audit_table(db).await;
        // 23:30 UTC on 9 July is already 10 July in Scotland.
        let cutoff = Utc
            .with_ymd_and_hms(2025, 7, 9, 23, 30, 0)
            .single()
            .expect("a time");
        let purged = Purged {
            board,
            what: "messages' addresses and words",
            rows: 12,
            cutoff,
        };
        record(db, "notification", &purged).await.expect("recorded");
        let row = entity::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("a row");
        assert_eq!(row.action, "retention.purge", "{backend}");
        assert_eq!(row.actor, "notification");
        assert_eq!(row.board.as_deref(), Some("orkney"));
        assert_eq!(row.referral_id, None);
        assert_eq!(
            row.purpose.as_deref(),
            Some("retention: 12 messages' addresses and words last changed before 10 July 2025")
        );
        assert!(row.at > cutoff + Duration::days(1));
    }
    databases.drop().await;
}
