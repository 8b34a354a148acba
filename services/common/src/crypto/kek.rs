//! Key-encryption keys (KEKs): what wraps each board's data key before it is
//! stored. A KEK never leaves its provider in a form anything else keeps: the
//! file provider holds it in memory for the life of the process; a KMS-style
//! provider would send the data key to the key service to be wrapped or
//! unwrapped and never see the KEK at all, which is why [`KeyEncryptionKey`]
//! is asynchronous and names keys by an id rather than by their bytes.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Bytes in an AES-256-GCM nonce.
pub(super) const NONCE_BYTES: usize = 12;

/// A board's data key in the clear: 256 random bits, wiped when dropped,
/// masked in `Debug`.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random data key, from the operating system's generator.
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        Self(Zeroizing::new(key.into()))
    }

    /// The AEAD this key encrypts columns with.
    pub(super) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.0))
    }

    fn from_slice(bytes: &[u8]) -> anyhow::Result<Self> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            anyhow::anyhow!("an unwrapped data key is {} bytes, not 32", bytes.len())
        })?;
        Ok(Self(Zeroizing::new(key)))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// What wraps and unwraps data keys. `context` is bound to the wrapped key
/// as associated data (the board and the key's version), so a wrapped key
/// copied to another board's row does not unwrap.
#[async_trait::async_trait]
pub trait KeyEncryptionKey: Send + Sync {
    /// Names this KEK in `data_keys.kek_id`: stable for the same key, never
    /// the key itself.
    fn id(&self) -> &str;

    async fn wrap(&self, data_key: &DataKey, context: &[u8]) -> anyhow::Result<Vec<u8>>;

    async fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> anyhow::Result<DataKey>;
}

/// A KEK read from a key file (hex, at least 32 bytes, see
/// [`crate::keys`]). The AES-256 key is derived from the file's bytes with
/// HMAC-SHA-256, and so is the id (`file:` and 16 hex digits): the id tells
/// which file wrapped a key and nothing of the key.
pub struct FileKek {
    id: String,
    cipher: Aes256Gcm,
}

impl FileKek {
    /// The KEK in `path`, created first if `create` and there is none.
    pub fn load(path: &Path, create: bool) -> anyhow::Result<Self> {
        let secret = Zeroizing::new(if create {
            crate::keys::load_or_create_key(path)?
        } else {
            crate::keys::load_key(path)?
        });
        Self::from_secret(&secret)
    }

    /// A KEK from the bytes of a key file (at least 32).
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= crate::keys::MIN_KEY_BYTES,
            "a key-encryption key must be at least {} bytes",
            crate::keys::MIN_KEY_BYTES
        );
        let derive = |label: &[u8]| -> anyhow::Result<Zeroizing<[u8; 32]>> {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
                .context("HMAC takes a key of any length")?;
            mac.update(label);
            Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
        };
        let key = derive(b"pathway key-encryption key v1")?;
        let id = derive(b"pathway key-encryption key id v1")?;
        Ok(Self {
            id: format!("file:{}", hex::encode(&id[..8])),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
        })
    }
}

#[async_trait::async_trait]
impl KeyEncryptionKey for FileKek {
    fn id(&self) -> &str {
        &self.id
    }

    async fn wrap(&self, data_key: &DataKey, context: &[u8]) -> anyhow::Result<Vec<u8>> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: data_key.0.as_slice(),
                    aad: context,
                },
            )
            .map_err(|_| anyhow::anyhow!("cannot wrap a data key"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    async fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> anyhow::Result<DataKey> {
        anyhow::ensure!(
            wrapped.len() > NONCE_BYTES,
            "a wrapped data key is too short"
        );
        let (nonce, sealed) = wrapped.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into()?;
        let key = Zeroizing::new(
            self.cipher
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: context,
                    },
                )
                .map_err(|_| {
                    anyhow::anyhow!(
                        "the data key does not unwrap with KEK {}: another key, or a wrapped key \
                         moved from another board's row",
                        self.id
                    )
                })?,
        );
        DataKey::from_slice(&key)
    }
}
