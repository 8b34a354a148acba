//! Unit tests of `encrypted.rs`, on a real SQLite database: rows kept before
//! encryption are encrypted at start, read back the same, and a value moved
//! to another row does not decrypt.

use chrono::Utc;
use pathway_common::crypto::{FieldCipher, FileKek, Keyring};
use sea_orm::{ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;

use super::*;
use crate::store::{Migrator, clinical_text, information_request, outcome};

async fn database() -> (DatabaseConnection, FieldCipher) {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    let kek = FileKek::from_secret(&[4; 32]).expect("32 bytes make a KEK");
    let keyring = Keyring::open(&db, &kek, &[])
        .await
        .expect("the keyring opens");
    (db, FieldCipher::new(keyring))
}

/// A row of each table as a database kept it before encryption.
async fn plaintext_rows(db: &DatabaseConnection) {
    clinical_text::Entity::insert(clinical_text::ActiveModel {
        id: Set("t-1".into()),
        referral_id: Set("r-1".into()),
        board: Set("highland".into()),
        kind: Set("advice".into()),
        text: Set("Walk daily.".into()),
        written_by: Set("dr-a".into()),
        written_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .expect("a text");
    information_request::Entity::insert(information_request::ActiveModel {
        id: Set("q-1".into()),
        referral_id: Set("r-1".into()),
        board: Set("highland".into()),
        question: Set("Any imaging?".into()),
        requested_by: Set("dr-a".into()),
        requested_by_name: Set(None),
        requested_at: Set(Utc::now()),
        answered_at: Set(None),
        overdue_at: Set(None),
    })
    .exec_without_returning(db)
    .await
    .expect("a question");
    outcome::Entity::insert(outcome::ActiveModel {
        id: Set("o-1".into()),
        referral_id: Set("r-1".into()),
        board: Set("highland".into()),
        clinician: Set("dr-a".into()),
        clinician_name: Set(None),
        body: Set(r#"{"outcome":"accept","rationale":"Clear history."}"#.into()),
        red_flag_override_reason: Set(Some("Seen last week.".into())),
        correction: Set(false),
        recorded_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .expect("an outcome");
}

#[tokio::test]
async fn rows_kept_before_encryption_are_encrypted_at_start_and_read_the_same() {
    let (db, cipher) = database().await;
    plaintext_rows(&db).await;
    // Read as they are before the backfill.
    let texts = clinical_text::by_ids(&db, &cipher, &["t-1".into()])
        .await
        .expect("read");
    assert_eq!(texts[0].text, "Walk daily.");

    backfill(&db, &cipher).await.expect("backfill");
    backfill(&db, &cipher)
        .await
        .expect("a second run is harmless");

    let text = clinical_text::Entity::find_by_id("t-1")
        .one(&db)
        .await
        .expect("read");
    let question = information_request::Entity::find_by_id("q-1")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    let stored = outcome::Entity::find_by_id("o-1")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    for value in [
        text.expect("kept").text,
        question.question.clone(),
        stored.body.clone(),
        stored.red_flag_override_reason.clone().unwrap_or_default(),
    ] {
        assert!(FieldCipher::is_sealed(&value), "{value}");
    }

    let texts = clinical_text::by_ids(&db, &cipher, &["t-1".into()])
        .await
        .expect("read");
    assert_eq!(texts[0].text, "Walk daily.");
    assert_eq!(question.question(&cipher).expect("opens"), "Any imaging?");
    let outcomes = outcome::of_referral(&db, &cipher, "r-1")
        .await
        .expect("read");
    assert_eq!(
        outcomes[0].body,
        r#"{"outcome":"accept","rationale":"Clear history."}"#
    );
    assert_eq!(
        outcomes[0].red_flag_override_reason.as_deref(),
        Some("Seen last week.")
    );

    // The body sealed for one outcome does not open as another's.
    let moved = open(&cipher, (OUTCOMES, BODY), "o-2", &stored.body);
    assert!(moved.is_err(), "bound to its row");
}

#[tokio::test]
async fn a_database_made_before_gives_each_question_its_worklist_rows_board() {
    use sea_orm::{ConnectionTrait, Statement};

    let (db, cipher) = database().await;
    // As a database made before `m0005`: no board beside the questions.
    let backend = db.get_database_backend();
    for sql in [
        "ALTER TABLE information_requests DROP COLUMN board",
        "DELETE FROM seaql_migrations WHERE version = 'm0005_information_requests_board'",
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .expect(sql);
    }
    let now = Utc::now();
    crate::store::worklist::Entity::insert(crate::store::worklist::ActiveModel {
        referral_id: Set("r-1".into()),
        board: Set("fife".into()),
        status: Set(crate::store::worklist::StoredStatus::InfoRequested),
        received_at: Set(now),
        red_flags: Set("[]".into()),
        red_flag_count: Set(0),
        pain_intensity: Set(5),
        pain_duration_months: Set(4),
        practice_code: Set("12345".into()),
        age_band: Set("40-49".into()),
        sex: Set("female".into()),
        re_referral: Set(false),
        claimed_by: Set(None),
        claimed_by_name: Set(None),
        lease_expires_at: Set(None),
        answer_received: Set(false),
        updated_at: Set(now),
        version: Set(1),
        held: Set(None),
    })
    .exec_without_returning(&db)
    .await
    .expect("a worklist row");
    for (id, referral) in [("q-1", "r-1"), ("q-2", "r-gone")] {
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO information_requests (id, referral_id, question, requested_by, \
                 requested_at) VALUES ('{id}', '{referral}', 'Any imaging?', 'dr-a', \
                 '2026-01-05 10:00:00+00:00')"
            ),
        ))
        .await
        .expect("a question kept before");
    }

    Migrator::up(&db, None).await.expect("m0005 applies");
    backfill(&db, &cipher).await.expect("backfill");

    let kept = information_request::Entity::find_by_id("q-1")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.board, "fife", "its worklist row's board");
    assert!(FieldCipher::is_sealed(&kept.question), "{}", kept.question);
    assert!(kept.question.starts_with("pathway-enc-v1:fife:"));
    assert_eq!(kept.question(&cipher).expect("opens"), "Any imaging?");
    // No worklist row: no board, no data key to take; left as it was.
    let orphan = information_request::Entity::find_by_id("q-2")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(orphan.board, "");
    assert_eq!(orphan.question, "Any imaging?");
}
