//! The board-loaded postcode lookup: postcode to urban/rural class and SIMD
//! quintile, the area attributes that leave intake instead of the postcode.

use std::path::Path;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, TransactionTrait, sea_query::OnConflict};

use super::postcode;
use crate::domain::Postcode;

/// The urban/rural class and SIMD quintile of `postcode`, or zeros when the
/// lookup does not know it.
pub async fn area_of<C: ConnectionTrait>(db: &C, postcode: &Postcode) -> Result<(u32, u32), DbErr> {
    let area = postcode::Entity::find_by_id(postcode.as_str().to_owned())
        .one(db)
        .await?;
    Ok(area
        .map(|a| {
            (
                u32::try_from(a.urban_rural_class).unwrap_or(0),
                u32::try_from(a.simd_quintile).unwrap_or(0),
            )
        })
        .unwrap_or((0, 0)))
}

/// Load (or refresh) the postcode lookup: every row is checked before any
/// is written, so a bad file changes nothing.
pub async fn load_postcodes(
    db: &sea_orm::DatabaseConnection,
    file: &Path,
) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_path(file)
        .with_context(|| format!("cannot open the postcode lookup {}", file.display()))?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record =
            record.with_context(|| format!("{}: line {line} is not CSV", file.display()))?;
        let (Some(code), Some(class), Some(quintile)) =
            (record.get(0), record.get(1), record.get(2))
        else {
            anyhow::bail!(
                "{}: line {line} needs postcode,urban_rural_class,simd_quintile",
                file.display()
            );
        };
        let code = Postcode::parse(code).with_context(|| {
            format!(
                "{}: line {line}: {code:?} is not a postcode",
                file.display()
            )
        })?;
        let class: i32 = class
            .trim()
            .parse()
            .ok()
            .filter(|c| (1..=6).contains(c))
            .with_context(|| {
                format!(
                    "{}: line {line}: urban_rural_class must be 1 to 6",
                    file.display()
                )
            })?;
        let quintile: i32 = quintile
            .trim()
            .parse()
            .ok()
            .filter(|q| (1..=5).contains(q))
            .with_context(|| {
                format!(
                    "{}: line {line}: simd_quintile must be 1 to 5",
                    file.display()
                )
            })?;
        rows.push(postcode::ActiveModel {
            postcode: sea_orm::ActiveValue::Set(code.as_str().to_owned()),
            urban_rural_class: sea_orm::ActiveValue::Set(class),
            simd_quintile: sea_orm::ActiveValue::Set(quintile),
        });
    }
    let count = rows.len();
    let txn = db.begin().await?;
    for chunk in rows.chunks(500) {
        postcode::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(postcode::Column::Postcode)
                    .update_columns([
                        postcode::Column::UrbanRuralClass,
                        postcode::Column::SimdQuintile,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}
