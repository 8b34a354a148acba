//! Unit tests of `audit.rs`: the trail's query, its cursor, and a walk
//! through its pages on a real SQLite file, rows at the same instant included.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait, Schema,
};

use super::*;
use crate::page::DEFAULT_LIMIT;

fn query(limit: Option<&str>, after: Option<&str>) -> AuditQuery {
    AuditQuery {
        referral_id: None,
        limit: limit.map(str::to_owned),
        after: after.map(str::to_owned),
    }
}

fn failing(query: &AuditQuery) -> Vec<String> {
    query
        .parse()
        .expect_err("the query is refused")
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn limit_is_fifty_when_left_out_and_at_most_five_hundred() {
    assert_eq!(
        query(None, None).parse().map(|q| q.limit),
        Ok(DEFAULT_LIMIT)
    );
    assert_eq!(query(Some("1"), None).parse().map(|q| q.limit), Ok(1));
    assert_eq!(query(Some("500"), None).parse().map(|q| q.limit), Ok(500));
    for bad in ["0", "501", "-1", "ten", "", "1.5"] {
        assert_eq!(failing(&query(Some(bad), None)), ["limit"], "{bad:?}");
    }
}

#[test]
fn a_cursor_reads_back_exactly_what_it_was_made_of() {
    let at = DateTime::from_timestamp(1_750_000_000, 123_456_789).expect("a time");
    let cursor = TrailCursor {
        at,
        id: uuid::Uuid::now_v7().to_string(),
    };
    assert_eq!(TrailCursor::decode(&cursor.encode()), Some(cursor));
}

#[test]
fn a_cursor_this_service_did_not_give_is_refused_with_the_limit_beside_it() {
    let id = uuid::Uuid::now_v7();
    for bad in [
        "",
        "yesterday",
        "1750000000",
        "1750000000.5",
        "1750000000.5.not-an-id",
        &format!("x.5.{id}"),
        &format!("1750000000.-5.{id}"),
        &format!("1750000000.5000000000.{id}"),
    ] {
        assert_eq!(failing(&query(None, Some(bad))), ["after"], "{bad:?}");
    }
    assert_eq!(failing(&query(Some("0"), Some("?"))), ["limit", "after"]);
}

async fn database(dir: &tempfile::TempDir) -> DatabaseConnection {
    let url = format!("sqlite://{}/audit.db?mode=rwc", dir.path().display());
    let db = Database::connect(url.as_str()).await.expect("open");
    let backend = db.get_database_backend();
    db.execute(&Schema::new(backend).create_table_from_entity(entity::Entity))
        .await
        .expect("the audit table");
    db
}

async fn insert(db: &DatabaseConnection, at: DateTime<Utc>, board: &str, referral: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    entity::Entity::insert(entity::ActiveModel {
        id: Set(id.clone()),
        at: Set(at),
        actor: Set("dr-a".into()),
        actor_role: Set("clinician".into()),
        action: Set("referral.read".into()),
        referral_id: Set(Some(referral.to_owned())),
        board: Set(Some(board.to_owned())),
        source: Set("127.0.0.1".into()),
        purpose: Set(None),
    })
    .exec(db)
    .await
    .expect("a row");
    id
}

fn admin_of(board: &str) -> Caller {
    Caller {
        subject: "admin".into(),
        name: None,
        role: Role::BoardAdmin,
        boards: BTreeSet::from([board.to_owned()]),
        source: "127.0.0.1".into(),
    }
}

#[tokio::test]
async fn pages_walk_the_whole_trail_in_order_without_skipping_or_repeating() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = database(&dir).await;
    let start = DateTime::from_timestamp(1_750_000_000, 987_654_321).expect("a time");
    // Eleven rows: some at the very same instant, one on another board.
    let mut expected = Vec::new();
    for i in 0..10 {
        let at = start + Duration::microseconds(i / 3);
        expected.push((
            at,
            insert(&db, at, "highland", &format!("r{}", i % 2)).await,
        ));
    }
    insert(&db, start, "orkney", "r0").await;
    expected.sort();

    let admin = admin_of("highland");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = trail(
            &db,
            &admin,
            "highland",
            &query(Some("3"), after.as_deref()).parse().expect("valid"),
        )
        .await
        .expect("a page");
        pages += 1;
        assert!(page.rows.len() <= 3);
        seen.extend(page.rows.iter().map(|r| r.at));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4, "3 + 3 + 3 + 1 rows");
    let times: Vec<DateTime<Utc>> = expected.iter().map(|(at, _)| *at).collect();
    assert_eq!(seen, times, "every row once, oldest first");

    // The last page of an exact fit says there is no more.
    let all = query(Some("10"), None).parse().expect("valid");
    let page = trail(&db, &admin, "highland", &all).await.expect("a page");
    assert_eq!(page.rows.len(), 10);
    assert_eq!(page.next_after, None);

    // One referral's rows, paged the same way.
    let mut one = query(Some("4"), None);
    one.referral_id = Some("r1".into());
    let first = trail(&db, &admin, "highland", &one.parse().expect("valid"))
        .await
        .expect("a page");
    assert_eq!(first.rows.len(), 4);
    one.after = first.next_after;
    let second = trail(&db, &admin, "highland", &one.parse().expect("valid"))
        .await
        .expect("a page");
    assert_eq!(second.rows.len(), 1);
    assert_eq!(second.next_after, None);
    assert!(
        first
            .rows
            .iter()
            .chain(&second.rows)
            .all(|r| r.referral_id.as_deref() == Some("r1"))
    );

    // Another board's admin reads none of it.
    let refused = trail(&db, &admin_of("orkney"), "highland", &all).await;
    assert!(
        matches!(refused, Err(TrailError::Forbidden(_))),
        "{refused:?}"
    );
}
