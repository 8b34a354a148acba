//! The patient's opt-in link and short code, free of I/O.
//!
//! A link carries an [`OptInToken`]: the decision it answers and the instant
//! its window closes, signed with intake's opt-in key (HMAC-SHA256), as one
//! base64url string. Nothing in it names the referral or the patient, and a
//! token that does not verify is refused before anything is read.
//!
//! A letter cannot carry a link, so it carries a [`ShortCode`]: ten
//! characters of Crockford's base32 (no I, L, O or U), derived from the
//! decision with the same key, so asking again for the same decision gives
//! the same code. Intake keeps only its hash ([`ShortCode::hash`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// What the link's signature covers is told apart from the code's by this.
const LINK_CONTEXT: &[u8] = b"pathway opt-in link v1";
const CODE_CONTEXT: &[u8] = b"pathway opt-in code v1";

/// Crockford's base32: no I, L, O or U, which people misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a short code: 50 bits.
pub const CODE_LENGTH: usize = 10;

/// Intake's opt-in key, ready to sign with.
#[derive(Clone)]
pub struct OptInKey(HmacSha256);

impl std::fmt::Debug for OptInKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OptInKey(***)")
    }
}

impl OptInKey {
    /// The key in `bytes` (at start-up, from intake's key file).
    pub fn new(bytes: &[u8]) -> Result<Self, hmac::digest::InvalidLength> {
        Ok(Self(<HmacSha256 as Mac>::new_from_slice(bytes)?))
    }

    fn keyed(&self, context: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(context);
        mac
    }

    fn mac(&self, context: &[u8], body: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed(context);
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// The decision an opt-in link answers and when its window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptInToken {
    pub decision_id: Uuid,
    pub closes_at: DateTime<Utc>,
}

/// Why a token is refused. The page says the same for every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is not one of ours")]
    Malformed,
    #[error("the link's signature does not match")]
    BadSignature,
}

impl OptInToken {
    /// The token as it goes in the link.
    pub fn sign(&self, key: &OptInKey) -> String {
        let mut bytes = self.body().to_vec();
        bytes.extend_from_slice(&key.mac(LINK_CONTEXT, &self.body()));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The token in `text`, if `key` signed it.
    pub fn verify(key: &OptInKey, text: &str) -> Result<Self, TokenError> {
        // A token is 75 characters; anything much longer is not worth decoding.
        if text.len() > 128 {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() != 24 + 32 {
            return Err(TokenError::Malformed);
        }
        let (body, signature) = bytes.split_at(24);
        let mut check = key.keyed(LINK_CONTEXT);
        check.update(body);
        check
            .verify_slice(signature)
            .map_err(|_| TokenError::BadSignature)?;
        let decision_id = Uuid::from_slice(&body[..16]).map_err(|_| TokenError::Malformed)?;
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(&body[16..24]);
        let closes_at = DateTime::from_timestamp(i64::from_be_bytes(seconds), 0)
            .ok_or(TokenError::Malformed)?;
        Ok(Self {
            decision_id,
            closes_at,
        })
    }

    /// Whether the window is still open at `now`.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        now < self.closes_at
    }

    fn body(&self) -> [u8; 24] {
        let mut body = [0u8; 24];
        body[..16].copy_from_slice(self.decision_id.as_bytes());
        body[16..].copy_from_slice(&self.closes_at.timestamp().to_be_bytes());
        body
    }
}

/// A short code a patient types from a letter.
#[derive(Clone, PartialEq, Eq)]
pub struct ShortCode(String);

impl std::fmt::Debug for ShortCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShortCode(***)")
    }
}

impl ShortCode {
    /// The code of `decision_id` under `key`: the same every time.
    pub fn for_decision(key: &OptInKey, decision_id: Uuid) -> Self {
        let digest = key.mac(CODE_CONTEXT, decision_id.as_bytes());
        let mut bits: u64 = 0;
        for byte in &digest[..8] {
            bits = (bits << 8) | u64::from(*byte);
        }
        let code = (0..CODE_LENGTH)
            .map(|i| {
                let index = (bits >> (64 - 5 * (i + 1))) & 0x1f;
                char::from(CROCKFORD[index as usize])
            })
            .collect();
        Self(code)
    }

    /// What a patient typed, read as Crockford's base32 reads it: case,
    /// spaces and hyphens do not matter, O reads as 0, I and L as 1. An
    /// error says what is wrong, for the page to show.
    pub fn parse(typed: &str) -> Result<Self, &'static str> {
        let mut code = String::with_capacity(CODE_LENGTH);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => c,
                _ => return Err("use only the letters and numbers printed in your letter"),
            };
            code.push(c);
        }
        if code.is_empty() {
            return Err("enter the code printed in your letter");
        }
        if code.len() != CODE_LENGTH {
            return Err("the code in your letter has 10 letters and numbers");
        }
        Ok(Self(code))
    }

    /// How the code is printed: two groups of five.
    pub fn printed(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// What intake keeps: the SHA-256 of the code, in hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[cfg(test)]
#[path = "tests/opt_in.rs"]
mod tests;
