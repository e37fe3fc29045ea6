use super::{now_ms, sealed_columns, sealed_from_columns, Db, StoreResult};
use crate::{
    crypto::Sealed,
    model::{ConnectionKind, Lifecycle},
};

/// A connection to one HR system, as stored. Lifecycle, health and `enabled` are independent facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: String,
    pub org_id: String,
    pub kind: ConnectionKind,
    pub provider_slug: Option<String>,
    pub display_name: String,
    pub end_user_origin_id: String,
    pub linked_account_id: Option<String>,
    pub account_token: Option<Sealed>,
    pub account_token_last4: Option<String>,
    pub lifecycle: Lifecycle,
    pub health_status: String,
    pub health_detail: Option<String>,
    pub health_checked_at: Option<i64>,
    pub provider_status: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    #[sqlx(try_from = "String")]
    kind: ConnectionKind,
    provider_slug: Option<String>,
    display_name: String,
    end_user_origin_id: String,
    linked_account_id: Option<String>,
    account_token_enc: Option<Vec<u8>>,
    account_token_key: Option<String>,
    account_token_last4: Option<String>,
    #[sqlx(try_from = "String")]
    lifecycle: Lifecycle,
    health_status: String,
    health_detail: Option<String>,
    health_checked_at: Option<i64>,
    provider_status: Option<String>,
    enabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<Row> for ConnectionRecord {
    fn from(r: Row) -> Self {
        ConnectionRecord {
            account_token: sealed_from_columns(r.account_token_enc, r.account_token_key),
            id: r.id,
            org_id: r.org_id,
            kind: r.kind,
            provider_slug: r.provider_slug,
            display_name: r.display_name,
            end_user_origin_id: r.end_user_origin_id,
            linked_account_id: r.linked_account_id,
            account_token_last4: r.account_token_last4,
            lifecycle: r.lifecycle,
            health_status: r.health_status,
            health_detail: r.health_detail,
            health_checked_at: r.health_checked_at,
            provider_status: r.provider_status,
            enabled: r.enabled != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, org_id, kind, provider_slug, display_name, end_user_origin_id, linked_account_id,
    account_token_enc, account_token_key, account_token_last4, lifecycle, health_status, health_detail,
    health_checked_at, provider_status, enabled, created_at, updated_at";

/// What is known when a connection is first created.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub id: String,
    pub org_id: String,
    pub kind: ConnectionKind,
    pub provider_slug: Option<String>,
    pub display_name: String,
    pub end_user_origin_id: String,
    pub linked_account_id: Option<String>,
    pub account_token: Option<Sealed>,
    pub account_token_last4: Option<String>,
    pub lifecycle: Lifecycle,
}

/// The key that makes names unique per organization regardless of case and surrounding space.
pub fn display_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Db {
    /// Inserts a connection. A name already used in the organization gives `StoreError::Conflict`.
    pub async fn insert_connection(&self, c: &NewConnection) -> StoreResult<ConnectionRecord> {
        let now = now_ms();
        let (token_enc, token_key) = sealed_columns(c.account_token.as_ref());
        sqlx::query(
            "INSERT INTO connections (id, org_id, kind, provider_slug, display_name, display_name_key,
                end_user_origin_id, linked_account_id, account_token_enc, account_token_key,
                account_token_last4, lifecycle, health_status, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'unknown', 0, $13, $13)",
        )
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(c.kind.as_str())
        .bind(&c.provider_slug)
        .bind(&c.display_name)
        .bind(display_name_key(&c.display_name))
        .bind(&c.end_user_origin_id)
        .bind(&c.linked_account_id)
        .bind(token_enc)
        .bind(token_key)
        .bind(&c.account_token_last4)
        .bind(c.lifecycle.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self
            .connection(&c.org_id, &c.id)
            .await?
            .expect("connection just written"))
    }

    /// One connection of the organization; another organization's id is simply not found.
    pub async fn connection(
        &self,
        org_id: &str,
        id: &str,
    ) -> StoreResult<Option<ConnectionRecord>> {
        Ok(sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(Into::into))
    }

    /// The organization's connections, oldest first.
    pub async fn connections(&self, org_id: &str) -> StoreResult<Vec<ConnectionRecord>> {
        Ok(sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS} FROM connections WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    /// True when another connection of the organization already has this name.
    pub async fn connection_name_taken(&self, org_id: &str, name: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM connections WHERE org_id = $1 AND display_name_key = $2",
        )
        .bind(org_id)
        .bind(display_name_key(name))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Makes `id` the organization's only active connection (or deactivates it), in one transaction.
    /// Returns false when the connection is not the organization's.
    pub async fn set_connection_enabled(
        &self,
        org_id: &str,
        id: &str,
        enabled: bool,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        if enabled {
            sqlx::query("UPDATE connections SET enabled = 0, updated_at = $1 WHERE org_id = $2 AND id <> $3 AND enabled = 1")
                .bind(now)
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query(
            "UPDATE connections SET enabled = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(i64::from(enabled))
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records that the connection is linked to `linked_account_id` with this (sealed) token.
    pub async fn set_connection_linked(
        &self,
        org_id: &str,
        id: &str,
        linked_account_id: &str,
        token: &Sealed,
        token_last4: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE connections SET linked_account_id = $1, account_token_enc = $2, account_token_key = $3,
                account_token_last4 = $4, lifecycle = 'linked', updated_at = $5
             WHERE org_id = $6 AND id = $7",
        )
        .bind(linked_account_id)
        .bind(token.blob.clone())
        .bind(&token.key_id)
        .bind(token_last4)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores the result of a health check.
    pub async fn set_connection_health(
        &self,
        org_id: &str,
        id: &str,
        status: &str,
        detail: Option<&str>,
        provider_status: Option<&str>,
        checked_at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE connections SET health_status = $1, health_detail = $2, provider_status = $3,
                health_checked_at = $4, updated_at = $4
             WHERE org_id = $5 AND id = $6",
        )
        .bind(status)
        .bind(detail)
        .bind(provider_status)
        .bind(checked_at)
        .bind(org_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_connection(&self, org_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM connections WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
