//! Encrypting the values a table held before its columns were encrypted, a
//! batch at a time. A service runs it at start for each encrypted column;
//! until it has run, [`super::FieldCipher::open`] reads such values as they
//! are (they carry no marker).
//!
//! Each value is replaced in its own statement, only if it is still the
//! value read, so a row another instance changed (or encrypted) meanwhile is
//! left to it; running it twice, or on two instances at once, is harmless,
//! and a crash part-way leaves every row either as it was or encrypted.

use anyhow::Context;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::field::{FieldCipher, MARKER, Place};

/// A table whose columns hold values to encrypt.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub table: &'a str,
    /// Its primary key, the row id the values are bound to.
    pub id: &'a str,
    /// The column that names each row's board (whose data key it takes).
    pub board: &'a str,
    pub columns: &'a [&'a str],
}

/// Encrypt every plaintext value in `of`, `batch` rows at a time; the count
/// encrypted.
pub async fn backfill(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    of: Columns<'_>,
    batch: u64,
) -> anyhow::Result<u64> {
    let mut total = 0;
    for column in of.columns {
        loop {
            let select = Query::select()
                .column(Alias::new(of.id))
                .column(Alias::new(of.board))
                .column(Alias::new(*column))
                .from(Alias::new(of.table))
                .and_where(Expr::col(Alias::new(*column)).is_not_null())
                .and_where(Expr::col(Alias::new(*column)).ne(""))
                .and_where(Expr::col(Alias::new(*column)).not_like(format!("{MARKER}%")))
                // A row that names no board has no data key to take.
                .and_where(Expr::col(Alias::new(of.board)).ne(""))
                .limit(batch)
                .to_owned();
            let rows = db
                .query_all(&select)
                .await
                .with_context(|| format!("cannot read {}.{column} to encrypt it", of.table))?;
            let read = rows.len() as u64;
            let mut changed = 0;
            for row in rows {
                let id: String = row.try_get("", of.id)?;
                let board: String = row.try_get("", of.board)?;
                let value: String = row.try_get("", column)?;
                let sealed = cipher.seal(&board, Place::new(of.table, column, &id), &value)?;
                let update = Query::update()
                    .table(Alias::new(of.table))
                    .value(Alias::new(*column), sealed)
                    .and_where(Expr::col(Alias::new(of.id)).eq(id.as_str()))
                    .and_where(Expr::col(Alias::new(*column)).eq(value.as_str()))
                    .to_owned();
                let result = db
                    .execute(&update)
                    .await
                    .with_context(|| format!("cannot encrypt {}.{column}", of.table))?;
                changed += result.rows_affected();
            }
            total += changed;
            // A short batch was the last; a batch that changed nothing
            // (every row changed under it) is left to the next start.
            if read < batch || changed == 0 {
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(table = of.table, count = total, "values encrypted at rest");
    }
    Ok(total)
}
