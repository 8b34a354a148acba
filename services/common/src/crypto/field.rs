//! Encrypting one column of one row: AES-256-GCM under the board's data key,
//! with the table, column and row id as associated data, so a value copied
//! to another row, column or table does not decrypt.
//!
//! A value is stored as text:
//!
//! ```text
//! pathway-enc-v1:<board>:<key version>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! The prefix is the marker: a value without it was written before columns
//! were encrypted and reads as it is (a service encrypts such values in
//! batches at start, so they do not stay). The board and version say which
//! data key opens it, so data keys can be added without rewriting rows.

use std::sync::Arc;

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, AeadCore, OsRng, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::kek::NONCE_BYTES;
use super::keyring::Keyring;

pub(super) const MARKER: &str = "pathway-enc-v1:";

/// Where a value is stored: what binds it to its place.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: &'a str,
}

impl<'a> Place<'a> {
    pub fn new(table: &'a str, column: &'a str, row: &'a str) -> Self {
        Self { table, column, row }
    }

    fn associated_data(&self) -> Vec<u8> {
        format!(
            "pathway column v1\0{}\0{}\0{}",
            self.table, self.column, self.row
        )
        .into_bytes()
    }
}

/// Why a value could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("there is no data key for board {board:?}")]
    NoKey { board: String },
    #[error("there is no data key {version} for board {board:?}")]
    UnknownKey { board: String, version: i32 },
    #[error("an encrypted value in {table}.{column} is malformed")]
    Malformed { table: String, column: String },
    /// The key is right but the value was altered, or belongs to another
    /// row, column or table.
    #[error(
        "the value in {table}.{column} of {row} does not decrypt: altered, or moved from another row"
    )]
    Refused {
        table: String,
        column: String,
        row: String,
    },
    #[error("cannot encrypt a value")]
    Encrypt,
}

impl From<CryptoError> for sea_orm::DbErr {
    fn from(error: CryptoError) -> Self {
        sea_orm::DbErr::Custom(error.to_string())
    }
}

/// Encrypts and decrypts columns with the boards' data keys. Cheap to clone.
#[derive(Clone)]
pub struct FieldCipher {
    keyring: Arc<Keyring>,
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldCipher(***)")
    }
}

impl FieldCipher {
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring: Arc::new(keyring),
        }
    }

    /// Whether `stored` is an encrypted value (rather than one written
    /// before encryption).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(MARKER)
    }

    /// `plaintext` encrypted under `board`'s current data key for `place`.
    pub fn seal(
        &self,
        board: &str,
        place: Place<'_>,
        plaintext: &str,
    ) -> Result<String, CryptoError> {
        let (version, cipher) = self
            .keyring
            .current(board)
            .ok_or_else(|| CryptoError::NoKey {
                board: board.to_owned(),
            })?;
        let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &place.associated_data(),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{MARKER}{board}:{version}:{}",
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// `seal` of an optional value.
    pub fn seal_opt(
        &self,
        board: &str,
        place: Place<'_>,
        plaintext: Option<&str>,
    ) -> Result<Option<String>, CryptoError> {
        plaintext.map(|p| self.seal(board, place, p)).transpose()
    }

    /// The plaintext of `stored`, read from `place`; a value without the
    /// marker (written before encryption) as it is.
    pub fn open(&self, place: Place<'_>, stored: &str) -> Result<String, CryptoError> {
        let Some(rest) = stored.strip_prefix(MARKER) else {
            return Ok(stored.to_owned());
        };
        let malformed = || CryptoError::Malformed {
            table: place.table.to_owned(),
            column: place.column.to_owned(),
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(board), Some(version), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let version: i32 = version.parse().map_err(|_| malformed())?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| malformed())?;
        if bytes.len() < NONCE_BYTES {
            return Err(malformed());
        }
        let cipher = self
            .keyring
            .get(board, version)
            .ok_or_else(|| CryptoError::UnknownKey {
                board: board.to_owned(),
                version,
            })?;
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| malformed())?;
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &place.associated_data(),
                },
            )
            .map_err(|_| CryptoError::Refused {
                table: place.table.to_owned(),
                column: place.column.to_owned(),
                row: place.row.to_owned(),
            })?;
        String::from_utf8(plain).map_err(|_| malformed())
    }

    /// `open` of an optional value.
    pub fn open_opt(
        &self,
        place: Place<'_>,
        stored: Option<&str>,
    ) -> Result<Option<String>, CryptoError> {
        stored.map(|s| self.open(place, s)).transpose()
    }
}
