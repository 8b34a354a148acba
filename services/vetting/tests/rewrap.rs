//! `vetting rewrap-keys`, run as an operator runs it: the data keys a
//! previous key-encryption key wrapped are re-wrapped under the current one,
//! and a clinician's text encrypted before still opens under it alone.

use std::process::Command;

use pathway_common::crypto::keyring::data_key;
use pathway_common::crypto::{FieldCipher, FileKek, KeyEncryptionKey, Keyring, Place};
use pathway_common::settings::DatabaseSettings;
use pathway_vetting::store::Migrator;
use sea_orm::EntityTrait;
use sea_orm_migration::MigratorTrait;

#[tokio::test]
async fn rewrap_keys_moves_every_data_key_to_the_new_kek_and_the_texts_still_open() {
    let dir = std::env::temp_dir().join(format!("vetting-rewrap-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let (old, new) = (dir.join("old-kek.key"), dir.join("new-kek.key"));
    let old_kek = FileKek::load(&old, true).expect("the old KEK");
    let new_kek = FileKek::load(&new, true).expect("the new KEK");
    let database = DatabaseSettings {
        url: format!("sqlite://{}/vetting.db", dir.display()),
        max_connections: 1,
    };
    let db = pathway_common::db::connect(&database)
        .await
        .expect("SQLite");
    Migrator::up(&db, None).await.expect("migrations apply");
    let before = FieldCipher::new(Keyring::open(&db, &old_kek, &[]).await.expect("opens"));
    let place = Place::new("clinical_texts", "text", "t-1");
    let sealed = before
        .seal("highland", place, "Walk daily.")
        .expect("sealed");
    db.close().await.expect("closed");

    let output = Command::new(env!("CARGO_BIN_EXE_vetting"))
        .arg("rewrap-keys")
        .env("PATHWAY_VETTING__DATABASE__URL", &database.url)
        .env("PATHWAY_VETTING__ENCRYPTION__KEK_FILE", &new)
        .env("PATHWAY_VETTING__ENCRYPTION__PREVIOUS_KEK_FILES", &old)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the vetting binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("re-wrapped under {}", new_kek.id())),
        "{stdout}"
    );

    let db = pathway_common::db::connect(&database)
        .await
        .expect("SQLite");
    let keys = data_key::Entity::find().all(&db).await.expect("the keys");
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k.kek_id == new_kek.id()), "{keys:?}");
    let after = FieldCipher::new(Keyring::open(&db, &new_kek, &[]).await.expect("opens"));
    assert_eq!(after.open(place, &sealed).expect("opens"), "Walk daily.");
    db.close().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
