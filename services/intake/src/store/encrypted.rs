//! Intake's identifiable columns, encrypted at rest with the board's data
//! key (`pathway_common::crypto`): the referral `document`, which holds the
//! patient's CHI number, names, date of birth, address and contact details,
//! and the referrer's free-text `answer` to a clinician's question.
//! The CHI number is also kept as a keyed hash (`patient_pseudonym`) for the
//! duplicate rule, never in the clear. Rows written before encryption are
//! encrypted at start ([`backfill`]) and read as they are until then.

use pathway_common::crypto::{self, Columns, CryptoError, FieldCipher, Place};
use sea_orm::DatabaseConnection;

use super::{information_request, referral};

const REFERRALS: &str = "referrals";
const DOCUMENT: &str = "document";
const INFORMATION_REQUESTS: &str = "information_requests";
const ANSWER: &str = "answer";

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

/// The referrer's answer `plain` to information request `id`, of a referral
/// of `board`, as stored.
pub fn seal_answer(
    cipher: &FieldCipher,
    board: &str,
    id: &str,
    plain: &str,
) -> Result<String, CryptoError> {
    cipher.seal(board, Place::new(INFORMATION_REQUESTS, ANSWER, id), plain)
}

/// `row` with its answer in the clear (an answer kept before encryption
/// reads as it is).
pub fn open_answer(
    cipher: &FieldCipher,
    mut row: information_request::Model,
) -> Result<information_request::Model, CryptoError> {
    if let Some(answer) = &row.answer {
        row.answer = Some(cipher.open(Place::new(INFORMATION_REQUESTS, ANSWER, &row.id), answer)?);
    }
    Ok(row)
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
