//! Unit tests of `crypto/`, on SQLite always and on PostgreSQL when one
//! answers (a fresh database each, dropped afterwards).

use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use super::keyring::data_key;
use super::*;
use crate::test_databases::Databases;

/// A fresh empty database of each backend that answers, with `data_keys`.
async fn fresh() -> Databases {
    let databases = Databases::fresh().await;
    for (_, db) in &databases.dbs {
        DataKeysMigration
            .up(&SchemaManager::new(db))
            .await
            .expect("migrates");
    }
    databases
}

fn kek(byte: u8) -> FileKek {
    FileKek::from_secret(&[byte; 32]).expect("32 bytes make a KEK")
}

fn place(row: &str) -> Place<'_> {
    Place::new("referrals", "document", row)
}

#[tokio::test]
async fn a_value_comes_back_and_its_ciphertext_holds_none_of_it() {
    let databases = fresh().await;
    for (backend, db) in &databases.dbs {
        let cipher = FieldCipher::new(Keyring::open(db, &kek(1), &[]).await.expect("opens"));
        let plain = r#"{"chi":"1234567881","given_name":"Morag"}"#;
        let sealed = cipher.seal("highland", place("r1"), plain).expect("seals");
        assert!(FieldCipher::is_sealed(&sealed), "{backend}");
        assert!(!sealed.contains("Morag") && !sealed.contains("1234567881"));
        assert_eq!(cipher.open(place("r1"), &sealed).expect("opens"), plain);
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(
            sealed,
            cipher.seal("highland", place("r1"), plain).expect("seals")
        );
        // Every board has its key, and another instance reads the same keys.
        let rows = data_key::Entity::find().all(db).await.expect("reads");
        assert_eq!(rows.len(), 14, "{backend}");
        let again = FieldCipher::new(Keyring::open(db, &kek(1), &[]).await.expect("opens"));
        assert_eq!(again.open(place("r1"), &sealed).expect("opens"), plain);
        assert_eq!(
            data_key::Entity::find().all(db).await.expect("reads").len(),
            14
        );
    }
    databases.drop().await;
}

#[tokio::test]
async fn a_value_moved_to_another_row_column_or_table_or_altered_is_refused() {
    let databases = fresh().await;
    for (backend, db) in &databases.dbs {
        let cipher = FieldCipher::new(Keyring::open(db, &kek(2), &[]).await.expect("opens"));
        let sealed = cipher.seal("fife", place("r1"), "Morag").expect("seals");
        for elsewhere in [
            place("r2"),
            Place::new("referrals", "answers", "r1"),
            Place::new("deliveries", "document", "r1"),
        ] {
            assert!(
                matches!(
                    cipher.open(elsewhere, &sealed),
                    Err(CryptoError::Refused { .. })
                ),
                "{backend}: {elsewhere:?}"
            );
        }
        // Another board's key, named in the value, refuses it too.
        let moved = sealed.replacen(":fife:", ":tayside:", 1);
        assert!(matches!(
            cipher.open(place("r1"), &moved),
            Err(CryptoError::Refused { .. })
        ));
        let mut altered = sealed.clone();
        let last = altered.pop().expect("not empty");
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(cipher.open(place("r1"), &altered).is_err(), "{backend}");
        assert!(matches!(
            cipher.open(
                place("r1"),
                &format!("pathway-enc-v1:fife:9:{}", "A".repeat(40))
            ),
            Err(CryptoError::UnknownKey { version: 9, .. })
        ));
        assert!(matches!(
            cipher.open(place("r1"), "pathway-enc-v1:fife"),
            Err(CryptoError::Malformed { .. })
        ));
        // A value written before encryption reads as it is.
        assert_eq!(cipher.open(place("r1"), "plain").expect("reads"), "plain");
    }
    databases.drop().await;
}

#[tokio::test]
async fn rotation_rewraps_the_data_keys_and_every_value_stays_readable() {
    let databases = fresh().await;
    for (backend, db) in &databases.dbs {
        let (old, new) = (kek(3), kek(4));
        let before = FieldCipher::new(Keyring::open(db, &old, &[]).await.expect("opens"));
        let sealed = before.seal("lothian", place("r1"), "Morag").expect("seals");
        let old_rows = data_key::Entity::find().all(db).await.expect("reads");

        // The new KEK alone cannot read keys the old one wrapped, and says
        // which setting would let it.
        let error = Keyring::open(db, &new, &[])
            .await
            .err()
            .expect("refused without the old KEK");
        assert!(
            format!("{error:#}").contains("previous_kek_files"),
            "{backend}: {error:#}"
        );

        let previous: Vec<std::sync::Arc<dyn KeyEncryptionKey>> = vec![std::sync::Arc::new(kek(3))];
        let done = rewrap(db, &new, &previous).await.expect("re-wraps");
        assert_eq!(
            done,
            Rewrapped {
                rewrapped: 14,
                current: 0
            },
            "{backend}"
        );
        let rows = data_key::Entity::find().all(db).await.expect("reads");
        assert!(
            rows.iter()
                .all(|r| r.kek_id == new.id() && r.rewrapped_at.is_some())
        );
        for (was, is) in old_rows.iter().zip(&rows) {
            assert_ne!(was.wrapped_key, is.wrapped_key, "{backend}");
        }
        // Again: nothing left to do.
        assert_eq!(
            rewrap(db, &new, &previous).await.expect("re-wraps").current,
            14
        );
        // The new KEK alone now opens the keys, and the value reads.
        let after = FieldCipher::new(Keyring::open(db, &new, &[]).await.expect("opens"));
        assert_eq!(after.open(place("r1"), &sealed).expect("opens"), "Morag");
        // The instance still running on the old keyring goes on working.
        assert_eq!(before.open(place("r1"), &sealed).expect("opens"), "Morag");
        // The old KEK alone no longer opens anything.
        assert!(Keyring::open(db, &old, &[]).await.is_err(), "{backend}");
    }
    databases.drop().await;
}

#[tokio::test]
async fn a_wrapped_key_copied_to_another_board_does_not_unwrap() {
    let databases = fresh().await;
    for (backend, db) in &databases.dbs {
        Keyring::open(db, &kek(5), &[]).await.expect("opens");
        let p = |n: usize| match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "UPDATE data_keys SET wrapped_key = (SELECT wrapped_key FROM data_keys WHERE \
                 board = {}) WHERE board = {}",
                p(1),
                p(2)
            ),
            ["fife".into(), "highland".into()],
        ))
        .await
        .expect("updates");
        let error = Keyring::open(db, &kek(5), &[])
            .await
            .err()
            .expect("refused");
        assert!(
            format!("{error:#}").contains("highland"),
            "{backend}: {error:#}"
        );
    }
    databases.drop().await;
}

#[tokio::test]
async fn backfill_encrypts_plaintext_rows_in_batches_and_leaves_sealed_ones() {
    let databases = fresh().await;
    for (backend, db) in &databases.dbs {
        let cipher = FieldCipher::new(Keyring::open(db, &kek(6), &[]).await.expect("opens"));
        db.execute_unprepared(
            "CREATE TABLE notes (id TEXT PRIMARY KEY, board TEXT NOT NULL, body TEXT, extra TEXT)",
        )
        .await
        .expect("creates");
        let sealed = cipher
            .seal("borders", Place::new("notes", "body", "n0"), "already")
            .expect("seals");
        db.execute_unprepared(&format!(
            "INSERT INTO notes VALUES ('n0', 'borders', '{sealed}', NULL)"
        ))
        .await
        .expect("inserts");
        for i in 1..=5 {
            db.execute_unprepared(&format!(
                "INSERT INTO notes VALUES ('n{i}', 'borders', 'Morag {i}', '')"
            ))
            .await
            .expect("inserts");
        }
        let columns = Columns {
            table: "notes",
            id: "id",
            board: "board",
            columns: &["body", "extra"],
        };
        assert_eq!(
            backfill(db, &cipher, columns, 2).await.expect("backfills"),
            5,
            "{backend}"
        );
        assert_eq!(backfill(db, &cipher, columns, 2).await.expect("again"), 0);
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, body, extra FROM notes ORDER BY id",
            ))
            .await
            .expect("reads");
        for row in rows {
            let id: String = row.try_get("", "id").expect("id");
            let body: String = row.try_get("", "body").expect("body");
            assert!(FieldCipher::is_sealed(&body), "{backend}: {id}");
            let plain = cipher
                .open(Place::new("notes", "body", &id), &body)
                .expect("opens");
            let expected = if id == "n0" {
                "already".to_owned()
            } else {
                format!("Morag {}", &id[1..])
            };
            assert_eq!(plain, expected);
            // Empty and missing values stay as they were.
            let extra: Option<String> = row.try_get("", "extra").expect("extra");
            assert_eq!(extra.is_none(), id == "n0");
        }
    }
    databases.drop().await;
}

#[test]
fn production_names_the_missing_kek_setting() {
    let problems = EncryptionSettings::default().production_problems("intake");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].setting, "PATHWAY_INTAKE__ENCRYPTION__KEK_FILE");
    assert!(
        EncryptionSettings::with_kek_file("/run/secrets/kek")
            .production_problems("intake")
            .is_empty()
    );
}

#[test]
fn a_kek_file_is_created_with_owner_only_access_and_named_by_a_stable_id() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("kek.key");
    // Not there and not to be created: refused, naming the file.
    let error = FileKek::load(&path, false).err().expect("refused");
    assert!(format!("{error:#}").contains("kek.key"));
    let made = FileKek::load(&path, true).expect("created");
    let mode = std::fs::metadata(&path)
        .expect("there")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let read = FileKek::load(&path, false).expect("read");
    assert_eq!(made.id(), read.id());
    assert!(made.id().starts_with("file:"));
    assert_ne!(made.id(), kek(1).id());
    assert!(FileKek::from_secret(&[7; 16]).is_err());
}

#[test]
fn previous_kek_files_read_from_one_comma_separated_variable() {
    let settings: EncryptionSettings =
        serde_json::from_value(serde_json::json!({"previous_kek_files": "/a, /b"})).expect("reads");
    assert_eq!(
        settings.previous_kek_files,
        vec![PathBuf::from("/a"), PathBuf::from("/b")]
    );
}
