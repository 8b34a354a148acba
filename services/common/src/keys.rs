//! Secret key files: the local signing key, intake's pseudonym key,
//! notification's webhook signing key. Each is hex in a file; a missing file
//! is created with a fresh random key, and a file that holds no usable key
//! stops the service at start.
//!
//! A key is at least [`MIN_KEY_BYTES`] bytes in every profile: an empty
//! signing key would let anyone sign a `board_admin` token for every board,
//! and an empty pseudonym key would leave an unkeyed hash of the CHI number.
//! A new key is written to a temporary file (mode 0600) in the same
//! directory and linked into place only if no file is there yet, so two
//! processes starting together never see a half-written key and both end up
//! with the same one.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The shortest key accepted: 256 bits.
pub const MIN_KEY_BYTES: usize = 32;

/// Read the key in `path`, creating a random one when there is no file yet.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => return parse(path, &text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot read the key in {}", path.display()));
        }
    }
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let key: [u8; MIN_KEY_BYTES] = rand::random();
    // tempfile creates the file with mode 0600.
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a key file in {}", dir.display()))?;
    file.write_all(hex::encode(key).as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write a key file in {}", dir.display()))?;
    match file.persist_noclobber(path) {
        Ok(_) => Ok(key.to_vec()),
        // Another process put its key there first: use theirs.
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the key in {}", path.display()))?;
            parse(path, &text)
        }
        Err(error) => Err(error.error).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Read the key in `path`, which must be there: where a missing key must
/// stop the service rather than be made afresh (production's key-encryption
/// key, whose loss leaves every encrypted column unreadable).
pub fn load_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key in {}", path.display()))?;
    parse(path, &text)
}

/// The key in `text`, read from `path`: hex, at least [`MIN_KEY_BYTES`].
fn parse(path: &Path, text: &str) -> anyhow::Result<Vec<u8>> {
    let key = hex::decode(text.trim()).with_context(|| {
        format!(
            "the key in {} is not hex: write {} random bytes as hex there, or remove the file \
             to have one created",
            path.display(),
            MIN_KEY_BYTES
        )
    })?;
    if key.len() < MIN_KEY_BYTES {
        anyhow::bail!(
            "the key in {} is {} bytes, too short to be safe: it must be at least {} random \
             bytes ({} hex digits); replace it, or remove the file to have one created",
            path.display(),
            key.len(),
            MIN_KEY_BYTES,
            MIN_KEY_BYTES * 2
        );
    }
    Ok(key)
}

#[cfg(test)]
#[path = "tests/keys.rs"]
mod tests;
