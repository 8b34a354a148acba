//! The identifiable columns of `deliveries`, encrypted at rest with the
//! board's data key (`pathway_common::crypto`): the address (a mobile
//! number, an e-mail or postal address, a webhook URL), the subject, the
//! body and the webhook document, which hold the patient's name and
//! contact details. Rows pass through here on their way in and out of
//! [`super::deliveries`], so the use cases only ever see them in the clear.
//!
//! An empty value stays empty: it holds nothing, and retries and the
//! retention sweep read emptiness (sent, or past its period). Rows written
//! before encryption are encrypted at start ([`backfill`]) and read as they
//! are until then.

use pathway_common::crypto::{self, Columns, CryptoError, FieldCipher, Place};
use sea_orm::DatabaseConnection;

use super::delivery;

const TABLE: &str = "deliveries";

fn seal_one(
    cipher: &FieldCipher,
    board: &str,
    id: &str,
    column: &str,
    plain: String,
) -> Result<String, CryptoError> {
    if plain.is_empty() {
        return Ok(plain);
    }
    cipher.seal(board, Place::new(TABLE, column, id), &plain)
}

fn open_one(
    cipher: &FieldCipher,
    id: &str,
    column: &str,
    stored: String,
) -> Result<String, CryptoError> {
    cipher.open(Place::new(TABLE, column, id), &stored)
}

/// `row` as stored: its address and words encrypted.
pub fn seal(cipher: &FieldCipher, row: delivery::Model) -> Result<delivery::Model, CryptoError> {
    let (board, id) = (row.board.clone(), row.id.clone());
    Ok(delivery::Model {
        address: seal_one(cipher, &board, &id, "address", row.address)?,
        subject: seal_one(cipher, &board, &id, "subject", row.subject)?,
        body: seal_one(cipher, &board, &id, "body", row.body)?,
        document: row
            .document
            .map(|d| seal_one(cipher, &board, &id, "document", d))
            .transpose()?,
        ..row
    })
}

/// A stored `row` in the clear.
pub fn open(cipher: &FieldCipher, row: delivery::Model) -> Result<delivery::Model, CryptoError> {
    let id = row.id.clone();
    Ok(delivery::Model {
        address: open_one(cipher, &id, "address", row.address)?,
        subject: open_one(cipher, &id, "subject", row.subject)?,
        body: open_one(cipher, &id, "body", row.body)?,
        document: row
            .document
            .map(|d| open_one(cipher, &id, "document", d))
            .transpose()?,
        ..row
    })
}

/// Every stored row of `rows` in the clear.
pub fn open_all(
    cipher: &FieldCipher,
    rows: Vec<delivery::Model>,
) -> Result<Vec<delivery::Model>, CryptoError> {
    rows.into_iter().map(|row| open(cipher, row)).collect()
}

/// `address` of delivery `id` of `board`, as stored.
pub fn seal_address(
    cipher: &FieldCipher,
    board: &str,
    id: &str,
    address: String,
) -> Result<String, CryptoError> {
    seal_one(cipher, board, id, "address", address)
}

/// Encrypt the deliveries stored before encryption, 500 rows at a time.
pub async fn backfill(db: &DatabaseConnection, cipher: &FieldCipher) -> anyhow::Result<()> {
    crypto::backfill(
        db,
        cipher,
        Columns {
            table: TABLE,
            id: "id",
            board: "board",
            columns: &["address", "subject", "body", "document"],
        },
        500,
    )
    .await?;
    Ok(())
}
