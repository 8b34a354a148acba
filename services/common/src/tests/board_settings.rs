//! Unit tests of `board_settings.rs`, on SQLite always and on PostgreSQL
//! when one answers (a fresh database each, dropped afterwards).

use chrono::TimeZone;
use pathway_proto::v1 as proto;
use sea_orm::{DatabaseConnection, Set};

use crate::test_databases::Databases;

use super::*;

/// Vetting's first `board_settings` entity, before `changed_by` and
/// `event_id`: what an older database holds.
mod before {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
        .single()
        .expect("a valid time")
}

fn changed(board: &str, when: DateTime<Utc>, by: &str, settings: &BoardSettings) -> Event {
    changed_json(
        board,
        when,
        by,
        &serde_json::to_string(settings).expect("settings serialise"),
    )
}

fn changed_json(board: &str, when: DateTime<Utc>, by: &str, json: &str) -> Event {
    changed_from(board, when, by, json, "")
}

fn changed_from(board: &str, when: DateTime<Utc>, by: &str, json: &str, from: &str) -> Event {
    Event::new(
        board,
        None,
        by,
        when,
        Payload::BoardSettingsChanged(proto::BoardSettingsChanged {
            vetting_target_working_days: 0,
            changed_by: by.into(),
            settings_json: json.into(),
            effective_date: from.into(),
        }),
    )
}

fn highland() -> BoardCode {
    BoardCode::parse("highland").expect("a board")
}

fn with_target(days: u32) -> BoardSettings {
    BoardSettings {
        vetting_target_working_days: days,
        ..BoardSettings::default()
    }
}

async fn row(db: &DatabaseConnection) -> Option<Model> {
    Entity::find_by_id("highland".to_owned())
        .one(db)
        .await
        .expect("read")
}

#[tokio::test]
async fn an_older_redelivered_change_does_not_undo_a_newer_one() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        migrate(&SchemaManager::new(db)).await.expect("migrates");
        let older = changed("highland", at(9), "admin-a", &with_target(5));
        let newer = changed("highland", at(10), "admin-b", &with_target(20));

        assert_eq!(apply(db, &older).await.expect("applies"), Applied::Kept);
        assert_eq!(apply(db, &newer).await.expect("applies"), Applied::Kept);
        // The older one again, redelivered after the newer was handled.
        assert_eq!(
            apply(db, &older).await.expect("applies"),
            Applied::Older { current: at(10) },
            "{backend}"
        );
        let settings = of_board(db, highland()).await.expect("reads");
        assert_eq!(settings.vetting_target_working_days, 20, "{backend}");
        let kept = row(db).await.expect("a row");
        assert_eq!(kept.changed_by, "admin-b");
        assert_eq!(kept.changed_at, at(10));
        assert_eq!(kept.event_id, newer.event_id);

        // The newer one again: the same row, nothing else.
        assert_eq!(apply(db, &newer).await.expect("applies"), Applied::Kept);
        assert_eq!(row(db).await, Some(kept), "{backend}");
        assert_eq!(Entity::find().all(db).await.expect("read").len(), 1);
    }
    databases.drop().await;
}

#[tokio::test]
async fn a_board_without_a_row_runs_on_the_defaults_and_an_unreadable_row_is_an_error() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        migrate(&SchemaManager::new(db)).await.expect("migrates");
        assert_eq!(
            of_board(db, highland()).await.expect("reads"),
            BoardSettings::default(),
            "{backend}"
        );
        version::Entity::insert(version::ActiveModel {
            event_id: Set("e".into()),
            board: Set("highland".into()),
            settings_json: Set("{\"vetting".into()),
            changed_by: Set(String::new()),
            changed_at: Set(at(9)),
            effective_date: Set(None),
        })
        .exec_without_returning(db)
        .await
        .expect("insert");
        let error = of_board(db, highland()).await.expect_err("unreadable");
        assert!(
            matches!(error, SettingsError::Unreadable(_)),
            "{backend}: {error:?}"
        );
        assert!(error.to_string().contains("highland"), "{error}");
    }
    databases.drop().await;
}

#[tokio::test]
async fn an_invalid_change_is_refused_with_every_field_and_nothing_is_kept() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        migrate(&SchemaManager::new(db)).await.expect("migrates");
        let broken = BoardSettings {
            claim_lease_minutes: 1,
            opt_in_window_days: 0,
            ..BoardSettings::default()
        };
        let cases: [(Event, &[&str]); 4] = [
            (
                changed("highland", at(9), "a", &broken),
                &[
                    "settings_json.claim_lease_minutes",
                    "settings_json.opt_in_window_days",
                ],
            ),
            (
                changed_json("highland", at(9), "a", "{\"vetting"),
                &["settings_json"],
            ),
            (
                changed("atlantis", at(9), "a", &broken),
                &[
                    "board",
                    "settings_json.claim_lease_minutes",
                    "settings_json.opt_in_window_days",
                ],
            ),
            (
                Event::new(
                    "highland",
                    None,
                    "a",
                    at(9),
                    Payload::ReferralWithdrawn(proto::ReferralWithdrawn::default()),
                ),
                &["payload"],
            ),
        ];
        for (event, expected) in cases {
            let error = apply(db, &event).await.expect_err("refused");
            let ApplyError::Invalid(fields) = &error else {
                panic!("{backend}: {error:?}");
            };
            let fields: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, expected, "{backend}");
            assert!(matches!(HandleError::from(error), HandleError::Rejected(_)));
        }
        assert_eq!(row(db).await, None, "{backend}");
    }
    databases.drop().await;
}

/// A database whose table predates `changed_by` and `event_id` gains them,
/// keeps its rows, and from then on keeps only newer changes.
#[tokio::test]
async fn an_older_table_gains_the_missing_columns_and_keeps_its_rows() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        let manager = SchemaManager::new(db);
        crate::db::create_table(&manager, before::Entity)
            .await
            .expect("the older table");
        before::Entity::insert(before::ActiveModel {
            board: Set("highland".into()),
            settings_json: Set(serde_json::to_string(&with_target(7)).expect("JSON")),
            changed_at: Set(at(10)),
        })
        .exec_without_returning(db)
        .await
        .expect("an older row");
        assert!(!manager.has_column(TABLE, "event_id").await.expect("schema"));

        migrate(&manager).await.expect("migrates the older table");
        migrate(&manager)
            .await
            .expect("and again, changing nothing");
        for column in ["changed_by", "event_id"] {
            assert!(
                manager.has_column(TABLE, column).await.expect("schema"),
                "{backend}: {column}"
            );
        }
        let old = row(db).await.expect("the older row is still there");
        assert_eq!((old.changed_by.as_str(), old.event_id.as_str()), ("", ""));
        assert_eq!(
            of_board(db, highland())
                .await
                .expect("reads")
                .vetting_target_working_days,
            7
        );

        let late = changed("highland", at(9), "a", &with_target(3));
        assert_eq!(
            apply(db, &late).await.expect("applies"),
            Applied::Older { current: at(10) },
            "{backend}"
        );
        let newer = changed("highland", at(11), "b", &with_target(12));
        assert_eq!(apply(db, &newer).await.expect("applies"), Applied::Kept);
        assert_eq!(
            row(db).await.expect("a row").event_id,
            newer.event_id,
            "{backend}"
        );
    }
    databases.drop().await;
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a day")
}

#[tokio::test]
async fn a_change_from_a_later_day_is_not_in_force_before_it() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        migrate(&SchemaManager::new(db)).await.expect("migrates");
        let json = |days: u32| serde_json::to_string(&with_target(days)).expect("serialise");
        // Saved on 2 March 2026: 7 days from that moment (no effective date),
        // 9 from 1 June, then 3 from 1 June saved later, and 12 from a day
        // far ahead.
        for (hour, days, from) in [(9, 7, ""), (10, 9, "2026-06-01"), (11, 3, "2026-06-01")] {
            let event = changed_from("highland", at(hour), "a", &json(days), from);
            apply(db, &event).await.expect("applies");
        }
        let far = changed_from("highland", at(12), "a", &json(12), "2999-01-01");
        apply(db, &far).await.expect("applies");
        let target = |day: NaiveDate| async move {
            in_force_on(db, highland(), day)
                .await
                .expect("reads")
                .vetting_target_working_days
        };
        let default = BoardSettings::default().vetting_target_working_days;
        assert_eq!(target(day("2026-03-01")).await, default, "{backend}");
        assert_eq!(target(day("2026-03-02")).await, 7, "{backend}");
        assert_eq!(target(day("2026-05-31")).await, 7, "{backend}");
        assert_eq!(target(day("2026-06-01")).await, 3, "{backend}");
        assert_eq!(target(day("2999-01-01")).await, 12, "{backend}");
        // Now (after 1 June 2026, before 2999): the later saved of 1 June.
        let now = of_board(db, highland()).await.expect("reads");
        assert_eq!(now.vetting_target_working_days, 3, "{backend}");
        // The latest saved is still the row `board_settings` keeps.
        assert_eq!(row(db).await.expect("a row").event_id, far.event_id);
        // A redelivery keeps one version per event.
        apply(db, &far).await.expect("applies");
        assert_eq!(
            version::Entity::find().all(db).await.expect("read").len(),
            4
        );

        let bad = changed_from("highland", at(13), "a", &json(5), "1 June");
        let error = apply(db, &bad).await.expect_err("refused");
        assert!(
            matches!(&error, ApplyError::Invalid(f) if f.iter().any(|f| f.field == "effective_date")),
            "{backend}: {error:?}"
        );
    }
    databases.drop().await;
}

#[tokio::test]
async fn the_change_kept_before_versions_becomes_the_first_version() {
    let databases = Databases::fresh().await;
    for (backend, db) in &databases.dbs {
        migrate(&SchemaManager::new(db)).await.expect("migrates");
        apply(db, &changed("highland", at(9), "a", &with_target(8)))
            .await
            .expect("applies");
        // As a database made before versions: the row, no versions.
        version::Entity::delete_many()
            .exec(db)
            .await
            .expect("delete");
        VersionsMigration
            .up(&SchemaManager::new(db))
            .await
            .expect("migrates");
        let settings = of_board(db, highland()).await.expect("reads");
        assert_eq!(settings.vetting_target_working_days, 8, "{backend}");
        assert_eq!(
            in_force_on(db, highland(), day("2026-03-01"))
                .await
                .expect("reads"),
            BoardSettings::default(),
            "{backend}"
        );
    }
    databases.drop().await;
}
