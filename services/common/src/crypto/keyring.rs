//! The `data_keys` table and the keys it holds: one data key per board and
//! version, stored only wrapped by a KEK, with the id of the KEK that wrapped
//! it. A service opens its keyring once at start ([`Keyring::open`]): it
//! re-wraps any data key still under a previous KEK, makes the data key of
//! every board that has none, and keeps the unwrapped keys in memory, so
//! encrypting and decrypting a column never touches the database.
//!
//! A crash at any point leaves the table usable: a data key is inserted
//! whole (a second instance racing to make the same board's key loses on
//! the primary key and reads the winner's), and a re-wrap replaces one row's
//! wrapped key only if it is still wrapped by the KEK that was read, in one
//! statement, so a row is always wrapped by one KEK or the other and every
//! instance can read it meanwhile.

use std::collections::HashMap;
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use anyhow::Context;
use chrono::Utc;
use pathway_proto::BoardCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

use super::kek::{DataKey, KeyEncryptionKey};

pub mod data_key {
    use sea_orm::entity::prelude::*;

    /// One board's data key of one version, wrapped.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "data_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// Nonce and AES-256-GCM output under the KEK, as hex.
        #[sea_orm(column_type = "Text")]
        pub wrapped_key: String,
        /// The KEK that wrapped it ([`super::KeyEncryptionKey::id`]).
        pub kek_id: String,
        pub created_at: DateTimeUtc,
        /// When it was last re-wrapped under another KEK.
        pub rewrapped_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Creates `data_keys`; each service that encrypts columns lists it in its
/// migrator.
pub struct DataKeysMigration;

impl MigrationName for DataKeysMigration {
    fn name(&self) -> &str {
        "m0025_data_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DataKeysMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::db::create_table(manager, data_key::Entity).await
    }
}

/// What binds a wrapped key to its row: a wrapped key copied to another
/// board or version does not unwrap.
fn wrap_context(board: &str, version: i32) -> Vec<u8> {
    format!("pathway data key v1\0{board}\0{version}").into_bytes()
}

/// What a re-wrap did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// Data keys moved from a previous KEK to the current one.
    pub rewrapped: usize,
    /// Data keys already under the current KEK.
    pub current: usize,
}

/// Re-wrap every data key in `db` that a KEK in `previous` wrapped under
/// `current`, a row at a time. Safe to run while services use the keys (the
/// data keys themselves do not change) and to run again.
pub async fn rewrap<C: ConnectionTrait>(
    db: &C,
    current: &dyn KeyEncryptionKey,
    previous: &[Arc<dyn KeyEncryptionKey>],
) -> anyhow::Result<Rewrapped> {
    let rows = data_key::Entity::find()
        .all(db)
        .await
        .context("cannot read the data keys")?;
    let mut done = Rewrapped::default();
    for row in rows {
        if row.kek_id == current.id() {
            done.current += 1;
            continue;
        }
        let key = unwrap_row(&row, current, previous).await?;
        let context = wrap_context(&row.board, row.version);
        let wrapped = current.wrap(&key, &context).await?;
        let result = data_key::Entity::update_many()
            .col_expr(
                data_key::Column::WrappedKey,
                Expr::value(hex::encode(wrapped)),
            )
            .col_expr(
                data_key::Column::KekId,
                Expr::value(current.id().to_owned()),
            )
            .col_expr(data_key::Column::RewrappedAt, Expr::value(Some(Utc::now())))
            .filter(data_key::Column::Board.eq(row.board.clone()))
            .filter(data_key::Column::Version.eq(row.version))
            .filter(data_key::Column::KekId.eq(row.kek_id.clone()))
            .exec(db)
            .await
            .context("cannot store a re-wrapped data key")?;
        // Zero rows: another instance re-wrapped it first.
        done.rewrapped += usize::from(result.rows_affected == 1);
        tracing::info!(
            board = %row.board,
            version = row.version,
            from = %row.kek_id,
            to = current.id(),
            "data key re-wrapped"
        );
    }
    Ok(done)
}

async fn unwrap_row(
    row: &data_key::Model,
    current: &dyn KeyEncryptionKey,
    previous: &[Arc<dyn KeyEncryptionKey>],
) -> anyhow::Result<DataKey> {
    let kek: &dyn KeyEncryptionKey = if row.kek_id == current.id() {
        current
    } else {
        previous
            .iter()
            .find(|k| k.id() == row.kek_id)
            .map(|k| k.as_ref())
            .with_context(|| {
                format!(
                    "the data key of {} (version {}) is wrapped by KEK {}, which is neither the \
                     KEK nor one of the previous KEKs: add that key's file to \
                     encryption.previous_kek_files until the data keys are re-wrapped",
                    row.board, row.version, row.kek_id
                )
            })?
    };
    let wrapped = hex::decode(&row.wrapped_key).with_context(|| {
        format!(
            "the wrapped data key of {} (version {}) is not hex",
            row.board, row.version
        )
    })?;
    kek.unwrap(&wrapped, &wrap_context(&row.board, row.version))
        .await
        .with_context(|| format!("cannot unwrap the data key of {}", row.board))
}

/// Every board's data keys, unwrapped, in memory.
pub struct Keyring {
    keys: HashMap<(String, i32), Aes256Gcm>,
    /// The version each board encrypts with: its newest.
    latest: HashMap<String, i32>,
}

impl Keyring {
    /// Re-wrap what a previous KEK wrapped, make the data key of each board
    /// that has none, and unwrap them all.
    pub async fn open<C: ConnectionTrait>(
        db: &C,
        current: &dyn KeyEncryptionKey,
        previous: &[Arc<dyn KeyEncryptionKey>],
    ) -> anyhow::Result<Self> {
        let done = rewrap(db, current, previous).await?;
        if done.rewrapped > 0 {
            tracing::info!(count = done.rewrapped, "data keys re-wrapped under the KEK");
        }
        let existing = data_key::Entity::find()
            .all(db)
            .await
            .context("cannot read the data keys")?;
        for board in BoardCode::all() {
            if existing.iter().any(|row| row.board == board.code()) {
                continue;
            }
            create(db, current, board.code(), 1).await?;
        }
        let rows = data_key::Entity::find()
            .all(db)
            .await
            .context("cannot read the data keys")?;
        let mut keys = HashMap::new();
        let mut latest: HashMap<String, i32> = HashMap::new();
        for row in rows {
            let key = unwrap_row(&row, current, previous).await?;
            let newest = latest.entry(row.board.clone()).or_insert(row.version);
            *newest = std::cmp::max(*newest, row.version);
            keys.insert((row.board, row.version), key.cipher());
        }
        Ok(Self { keys, latest })
    }

    /// The key `board` encrypts with now, and its version.
    pub(super) fn current(&self, board: &str) -> Option<(i32, &Aes256Gcm)> {
        let version = *self.latest.get(board)?;
        Some((version, self.keys.get(&(board.to_owned(), version))?))
    }

    pub(super) fn get(&self, board: &str, version: i32) -> Option<&Aes256Gcm> {
        self.keys.get(&(board.to_owned(), version))
    }
}

/// Insert a fresh data key for `board`; another instance's key, inserted
/// first, stands.
async fn create<C: ConnectionTrait>(
    db: &C,
    kek: &dyn KeyEncryptionKey,
    board: &str,
    version: i32,
) -> anyhow::Result<()> {
    let key = DataKey::generate();
    let wrapped = kek.wrap(&key, &wrap_context(board, version)).await?;
    let row = data_key::ActiveModel {
        board: Set(board.to_owned()),
        version: Set(version),
        wrapped_key: Set(hex::encode(wrapped)),
        kek_id: Set(kek.id().to_owned()),
        created_at: Set(Utc::now()),
        rewrapped_at: Set(None),
    };
    match data_key::Entity::insert(row).exec(db).await {
        Ok(_) => Ok(()),
        Err(error) if crate::db::is_unique_violation(&error) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("cannot store the data key of {board}")),
    }
}
