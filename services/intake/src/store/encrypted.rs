//! Intake's identifiable columns, encrypted at rest with the board's data
//! key (`pathway_common::crypto`): the referral `document`, which holds the
//! patient's CHI number, names, date of birth, address and contact details.
//! The CHI number is also kept as a keyed hash (`patient_pseudonym`) for the
//! duplicate rule, never in the clear. Rows written before encryption are
//! encrypted at start ([`backfill`]) and read as they are until then.

use pathway_common::crypto::{self, Columns, CryptoError, FieldCipher, Place};
use sea_orm::DatabaseConnection;

use super::referral;

const REFERRALS: &str = "referrals";
const DOCUMENT: &str = "document";

/// The referral document `plain` of referral `id` of `board`, as stored.
pub fn seal_document(
    cipher: &FieldCipher,
    board: &str,
    id: &str,
    plain: &str,
) -> Result<String, CryptoError> {
    cipher.seal(board, Place::new(REFERRALS, DOCUMENT, id), plain)
}

/// The referral document of `row`, in the clear.
pub fn open_document(cipher: &FieldCipher, row: &referral::Model) -> Result<String, CryptoError> {
    cipher.open(Place::new(REFERRALS, DOCUMENT, &row.id), &row.document)
}

/// Encrypt the documents stored before encryption, 500 rows at a time.
pub async fn backfill(db: &DatabaseConnection, cipher: &FieldCipher) -> anyhow::Result<()> {
    crypto::backfill(
        db,
        cipher,
        Columns {
            table: REFERRALS,
            id: "id",
            board: "board",
            columns: &[DOCUMENT],
        },
        500,
    )
    .await?;
    Ok(())
}
