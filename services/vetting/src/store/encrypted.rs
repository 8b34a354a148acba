//! Vetting's identifiable columns, encrypted at rest with the board's data
//! key (`pathway_common::crypto`, `docs/decisions/0025-encryption-at-rest.md`):
//! the clinicians' free text (`clinical_texts.text`), and the two places that
//! repeat it: the question of an information request and the outcome as
//! recorded (its request body, with advice, reason and rationale, and the
//! red-flag override reason). Each value is bound to its table, column and
//! row, so one copied elsewhere does not decrypt.
//!
//! Rows written before encryption are encrypted at start ([`backfill`]) and
//! read as they are until then; a crash part-way leaves each value either as
//! it was or encrypted, and the next start goes on.

use pathway_common::crypto::{self, Columns, CryptoError, FieldCipher, Place};
use pathway_common::retention::BATCH;
use sea_orm::DatabaseConnection;

pub const CLINICAL_TEXTS: &str = "clinical_texts";
pub const TEXT: &str = "text";
pub const INFORMATION_REQUESTS: &str = "information_requests";
pub const QUESTION: &str = "question";
pub const OUTCOMES: &str = "outcomes";
pub const BODY: &str = "body";
pub const RED_FLAG_OVERRIDE_REASON: &str = "red_flag_override_reason";

/// `plain`, of a referral of `board`, as stored in `column` of `table` at
/// row `id`.
pub fn seal(
    cipher: &FieldCipher,
    board: &str,
    (table, column): (&str, &str),
    id: &str,
    plain: &str,
) -> Result<String, CryptoError> {
    cipher.seal(board, Place::new(table, column, id), plain)
}

/// The plaintext of `stored`, read from `column` of `table` at row `id` (a
/// value kept before encryption reads as it is).
pub fn open(
    cipher: &FieldCipher,
    (table, column): (&str, &str),
    id: &str,
    stored: &str,
) -> Result<String, CryptoError> {
    cipher.open(Place::new(table, column, id), stored)
}

/// Encrypt what was stored before encryption, a batch at a time.
pub async fn backfill(db: &DatabaseConnection, cipher: &FieldCipher) -> anyhow::Result<()> {
    for (table, columns) in [
        (CLINICAL_TEXTS, &[TEXT][..]),
        (INFORMATION_REQUESTS, &[QUESTION][..]),
        (OUTCOMES, &[BODY, RED_FLAG_OVERRIDE_REASON][..]),
    ] {
        crypto::backfill(
            db,
            cipher,
            Columns {
                table,
                id: "id",
                board: "board",
                columns,
            },
            BATCH,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/encrypted.rs"]
mod tests;
