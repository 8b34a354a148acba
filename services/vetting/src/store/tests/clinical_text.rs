//! Unit tests of `clinical_text.rs`, on a real SQLite database.

use pathway_common::crypto::{FileKek, Keyring};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

use super::*;
use crate::store::Migrator;

async fn database() -> (DatabaseConnection, FieldCipher) {
    // One connection: each connection to `:memory:` is a database of its own.
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("SQLite opens");
    Migrator::up(&db, None).await.expect("migrations apply");
    let kek = FileKek::from_secret(&[3; 32]).expect("32 bytes make a KEK");
    let keyring = Keyring::open(&db, &kek, &[])
        .await
        .expect("the keyring opens");
    (db, FieldCipher::new(keyring))
}

fn writer(cipher: &FieldCipher) -> Writer<'_> {
    Writer {
        cipher,
        referral_id: "r-1",
        board: "highland",
        written_by: "dr-a",
        written_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_text_is_kept_under_a_new_id_and_read_back_by_it() {
    let (db, cipher) = database().await;
    let id = writer(&cipher)
        .insert(&db, Kind::Advice, Some("  Try graded activity first.  "))
        .await
        .expect("kept")
        .expect("an id for a text");
    let other = writer(&cipher)
        .insert(&db, Kind::Rationale, Some("Chronic, no red flags."))
        .await
        .expect("kept")
        .expect("an id for a text");
    assert_ne!(id, other, "each text its own id");

    let found = by_ids(&db, &cipher, &[id.clone(), "no-such-text".into()])
        .await
        .expect("read");
    assert_eq!(found.len(), 1, "an unknown id is left out");
    let text = &found[0];
    assert_eq!(text.id, id);
    assert_eq!(text.text, "Try graded activity first.", "trimmed");
    assert_eq!(Kind::parse(&text.kind), Some(Kind::Advice));
    assert_eq!(text.referral_id, "r-1");
    assert_eq!(text.board, "highland");
    assert_eq!(text.written_by, "dr-a");

    let stored = Entity::find_by_id(id.clone())
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert!(FieldCipher::is_sealed(&stored.text), "{}", stored.text);
    assert!(!stored.text.contains("graded"), "encrypted at rest");
}

#[tokio::test]
async fn no_text_or_a_blank_one_keeps_nothing_and_gives_no_id() {
    let (db, cipher) = database().await;
    for text in [None, Some(""), Some("   ")] {
        let id = writer(&cipher)
            .insert(&db, Kind::Reason, text)
            .await
            .expect("no error");
        assert_eq!(id, None, "{text:?}");
    }
    assert!(Entity::find().all(&db).await.expect("read").is_empty());
    assert!(by_ids(&db, &cipher, &[]).await.expect("read").is_empty());
}

#[tokio::test]
async fn a_question_is_kept_under_the_id_it_is_given() {
    let (db, cipher) = database().await;
    writer(&cipher)
        .insert_as(&db, "request-1", Kind::Question, "Any imaging since March?")
        .await
        .expect("kept");
    let found = by_ids(&db, &cipher, &["request-1".into()])
        .await
        .expect("read");
    assert_eq!(found[0].kind, "question");
    assert_eq!(found[0].text, "Any imaging since March?");
    let again = writer(&cipher)
        .insert_as(&db, "request-1", Kind::Question, "twice")
        .await;
    assert!(again.is_err(), "an id is never reused");
}

#[test]
fn every_kind_reads_back_from_its_code() {
    for kind in [
        Kind::Question,
        Kind::Advice,
        Kind::Reason,
        Kind::Rationale,
        Kind::RedFlagOverrideReason,
    ] {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(Kind::parse("note"), None);
}
