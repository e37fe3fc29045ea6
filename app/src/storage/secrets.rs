//! Every sealed column, and key rotation: re-encrypting them all under the keyring's primary key.

use super::{Db, StoreError};
use crate::crypto::{CryptoError, Keyring, Sealed};

/// A column pair holding a sealed secret: `<enc>` (nonce || ciphertext) and `<key>` (the key id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub enc: &'static str,
    pub key: &'static str,
}

/// Every sealed column in the schema. A storage test checks the migrations for `*_enc` columns
/// missing here, so a new secret cannot be left out of rotation.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "connections",
        enc: "account_token_enc",
        key: "account_token_key",
    },
    SealedColumn {
        table: "magic_links",
        enc: "url_enc",
        key: "url_key",
    },
    SealedColumn {
        table: "magic_links",
        enc: "account_token_enc",
        key: "account_token_key",
    },
    SealedColumn {
        table: "webhook_log",
        enc: "body_enc",
        key: "body_key",
    },
];

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{table}.{column} of row {id} cannot be opened: {error}")]
    Open {
        table: &'static str,
        column: &'static str,
        id: String,
        error: CryptoError,
    },
}

impl From<sqlx::Error> for RotateError {
    fn from(e: sqlx::Error) -> Self {
        RotateError::Store(e.into())
    }
}

/// How many values each column had re-sealed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotationReport {
    pub resealed: Vec<(SealedColumn, u64)>,
}

impl RotationReport {
    pub fn total(&self) -> u64 {
        self.resealed.iter().map(|(_, n)| n).sum()
    }
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    id: String,
    enc: Vec<u8>,
    key: String,
}

impl Db {
    /// Re-encrypts every sealed value not under the primary key with the primary key. Older keys
    /// must still be in the ring to open them. Safe to run while the server serves: each value is
    /// replaced only if it did not change meanwhile, and running it twice does nothing the second time.
    pub async fn reseal_all(&self, keyring: &Keyring) -> Result<RotationReport, RotateError> {
        let primary = keyring.primary_id().to_string();
        let mut report = RotationReport::default();
        for col in SEALED_COLUMNS {
            let rows: Vec<SealedRow> = sqlx::query_as(sql!(
                "SELECT id, {enc} AS enc, {key} AS key FROM {table}
                 WHERE {enc} IS NOT NULL AND {key} IS NOT NULL AND {key} <> $1",
                enc = col.enc,
                key = col.key,
                table = col.table
            ))
            .bind(&primary)
            .fetch_all(&self.pool)
            .await?;
            let mut n = 0;
            for row in rows {
                let old = Sealed {
                    key_id: row.key.clone(),
                    blob: row.enc.clone(),
                };
                let plain = keyring.open(&old).map_err(|error| RotateError::Open {
                    table: col.table,
                    column: col.enc,
                    id: row.id.clone(),
                    error,
                })?;
                let new = keyring.seal(&plain);
                drop(plain);
                n += sqlx::query(sql!(
                    "UPDATE {table} SET {enc} = $1, {key} = $2 WHERE id = $3 AND {key} = $4 AND {enc} = $5",
                    enc = col.enc,
                    key = col.key,
                    table = col.table
                ))
                .bind(new.blob)
                .bind(new.key_id)
                .bind(&row.id)
                .bind(&row.key)
                .bind(row.enc)
                .execute(&self.pool)
                .await?
                .rows_affected();
            }
            report.resealed.push((*col, n));
        }
        Ok(report)
    }

    /// How many sealed values each key id holds, over every sealed column (sorted by key id).
    pub async fn sealed_key_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
        for col in SEALED_COLUMNS {
            let rows: Vec<(String, i64)> = sqlx::query_as(sql!(
                "SELECT {key}, COUNT(*) FROM {table} WHERE {key} IS NOT NULL GROUP BY {key}",
                key = col.key,
                table = col.table
            ))
            .fetch_all(&self.pool)
            .await?;
            for (k, n) in rows {
                *counts.entry(k).or_default() += n;
            }
        }
        Ok(counts.into_iter().collect())
    }
}
