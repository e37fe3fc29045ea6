use sqlx::{Any, Executor};

use super::{now_ms, one_row, sealed_columns, sealed_from_columns, Db, StoreResult, Tx};
use crate::{
    crypto::Sealed,
    model::{
        ConnectionId, ConnectionKind, HealthStatus, Lifecycle, LinkedAccountId, OrganizationId,
    },
};

/// A connection to one HR system, as stored. Lifecycle, health and `enabled` are independent facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: ConnectionId,
    pub org_id: OrganizationId,
    pub kind: ConnectionKind,
    pub provider_slug: Option<String>,
    pub display_name: String,
    pub end_user_origin_id: String,
    pub linked_account_id: Option<LinkedAccountId>,
    pub account_token: Option<Sealed>,
    pub account_token_last4: Option<String>,
    pub lifecycle: Lifecycle,
    pub health_status: HealthStatus,
    pub health_detail: Option<String>,
    pub health_checked_at: Option<i64>,
    /// When the health last changed to what it is now.
    pub health_since: Option<i64>,
    pub provider_status: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ConnectionId,
    org_id: OrganizationId,
    #[sqlx(try_from = "String")]
    kind: Parsed<ConnectionKind>,
    provider_slug: Option<String>,
    display_name: String,
    end_user_origin_id: String,
    linked_account_id: Option<LinkedAccountId>,
    account_token_enc: Option<Vec<u8>>,
    account_token_key: Option<String>,
    account_token_last4: Option<String>,
    #[sqlx(try_from = "String")]
    lifecycle: Parsed<Lifecycle>,
    #[sqlx(try_from = "String")]
    health_status: Parsed<HealthStatus>,
    health_detail: Option<String>,
    health_checked_at: Option<i64>,
    health_since: Option<i64>,
    provider_status: Option<String>,
    enabled: i64,
    created_at: i64,
    updated_at: i64,
}

/// A stored enum name read back into its enum (`strum`'s `FromStr`); an unknown name fails the read.
pub(super) struct Parsed<T>(pub T);

impl<T: std::str::FromStr<Err = strum::ParseError>> TryFrom<String> for Parsed<T> {
    type Error = strum::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse().map(Parsed)
    }
}

impl From<Row> for ConnectionRecord {
    fn from(r: Row) -> Self {
        ConnectionRecord {
            account_token: sealed_from_columns(r.account_token_enc, r.account_token_key),
            id: r.id,
            org_id: r.org_id,
            kind: r.kind.0,
            provider_slug: r.provider_slug,
            display_name: r.display_name,
            end_user_origin_id: r.end_user_origin_id,
            linked_account_id: r.linked_account_id,
            account_token_last4: r.account_token_last4,
            lifecycle: r.lifecycle.0,
            health_status: r.health_status.0,
            health_detail: r.health_detail,
            health_checked_at: r.health_checked_at,
            health_since: r.health_since,
            provider_status: r.provider_status,
            enabled: r.enabled != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, org_id, kind, provider_slug, display_name, end_user_origin_id, linked_account_id,
    account_token_enc, account_token_key, account_token_last4, lifecycle, health_status, health_detail,
    health_checked_at, health_since, provider_status, enabled, created_at, updated_at";

/// What is known when a connection is first created.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub id: ConnectionId,
    pub org_id: OrganizationId,
    pub kind: ConnectionKind,
    pub provider_slug: Option<String>,
    pub display_name: String,
    pub end_user_origin_id: String,
    pub linked_account_id: Option<LinkedAccountId>,
    pub account_token: Option<Sealed>,
    pub account_token_last4: Option<String>,
    pub lifecycle: Lifecycle,
}

/// The key that makes names unique per organization regardless of case and surrounding space.
pub fn display_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// One connection of the organization, on the pool or inside a transaction.
async fn fetch<'e>(
    e: impl Executor<'e, Database = Any>,
    org_id: &OrganizationId,
    id: &ConnectionId,
) -> StoreResult<Option<ConnectionRecord>> {
    Ok(sqlx::query_as::<_, Row>(sql!(
        "SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(e)
    .await?
    .map(Into::into))
}

impl Db {
    /// One connection of the organization; another organization's id is simply not found.
    pub async fn connection(
        &self,
        org_id: &OrganizationId,
        id: &ConnectionId,
    ) -> StoreResult<Option<ConnectionRecord>> {
        fetch(&self.pool, org_id, id).await
    }

    /// Every organization's active connection (the sync's schedule walks them).
    pub async fn active_connections(&self) -> StoreResult<Vec<ConnectionRecord>> {
        Ok(sqlx::query_as::<_, Row>(sql!(
            "SELECT {COLUMNS} FROM connections WHERE enabled = 1 ORDER BY org_id, id"
        ))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    /// The active connections whose health watch has not claimed `period` yet (each tick reads
    /// only these, so a tick within an interval already checked costs one query).
    pub async fn health_watch_due(&self, period: i64) -> StoreResult<Vec<ConnectionRecord>> {
        Ok(sqlx::query_as::<_, Row>(sql!(
            "SELECT {COLUMNS} FROM connections
             WHERE enabled = 1 AND (health_watch_period IS NULL OR health_watch_period < $1)
             ORDER BY org_id, id"
        ))
        .bind(period)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    /// Claims the health watch's `period` for an active connection: true for exactly one caller
    /// per connection and period, whichever instance asks first.
    pub async fn claim_health_watch(&self, id: &ConnectionId, period: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE connections SET health_watch_period = $1
             WHERE id = $2 AND enabled = 1
               AND (health_watch_period IS NULL OR health_watch_period < $1)",
        )
        .bind(period)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The organization's connections, oldest first.
    pub async fn connections(&self, org_id: &OrganizationId) -> StoreResult<Vec<ConnectionRecord>> {
        Ok(sqlx::query_as::<_, Row>(sql!(
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
    pub async fn connection_name_taken(
        &self,
        org_id: &OrganizationId,
        name: &str,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM connections WHERE org_id = $1 AND display_name_key = $2",
        )
        .bind(org_id)
        .bind(display_name_key(name))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

impl Tx {
    /// One connection of the organization, as this transaction sees it.
    pub async fn connection(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
    ) -> StoreResult<Option<ConnectionRecord>> {
        fetch(self.conn(), org_id, id).await
    }

    /// Inserts a connection. A name already used in the organization gives `StoreError::Conflict`.
    pub async fn insert_connection(&mut self, c: &NewConnection) -> StoreResult<ConnectionRecord> {
        let now = now_ms();
        let (token_enc, token_key) = sealed_columns(c.account_token.as_ref());
        sqlx::query(
            "INSERT INTO connections (id, org_id, kind, provider_slug, display_name, display_name_key,
                end_user_origin_id, linked_account_id, account_token_enc, account_token_key,
                account_token_last4, lifecycle, health_status, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $14)",
        )
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(<&str>::from(c.kind))
        .bind(&c.provider_slug)
        .bind(&c.display_name)
        .bind(display_name_key(&c.display_name))
        .bind(&c.end_user_origin_id)
        .bind(&c.linked_account_id)
        .bind(token_enc)
        .bind(token_key)
        .bind(&c.account_token_last4)
        .bind(<&str>::from(c.lifecycle))
        .bind(HealthStatus::Unknown.as_str())
        .bind(now)
        .execute(self.conn())
        .await?;
        self.connection(&c.org_id, &c.id)
            .await?
            .ok_or(super::StoreError::Missing)
    }

    /// Makes the linked connection `id` the organization's active one. The connections that were
    /// active must be exactly `expected_active` (what the caller saw before deciding): if another one
    /// became active meanwhile, this is `StoreError::Conflict`; so is a concurrent activation (the
    /// database allows one active connection per organization). Returns the ones deactivated.
    pub async fn activate_connection(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
        expected_active: Option<&ConnectionId>,
    ) -> StoreResult<Vec<ConnectionId>> {
        let now = now_ms();
        let deactivated: Vec<ConnectionId> = sqlx::query_scalar(
            "UPDATE connections SET enabled = 0, updated_at = $1
             WHERE org_id = $2 AND id <> $3 AND enabled = 1 RETURNING id",
        )
        .bind(now)
        .bind(org_id)
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        let expected: Vec<&ConnectionId> =
            expected_active.filter(|e| *e != id).into_iter().collect();
        if deactivated.iter().collect::<Vec<_>>() != expected {
            return Err(super::StoreError::Conflict(
                "active connection changed meanwhile",
            ));
        }
        one_row(
            sqlx::query(
                "UPDATE connections SET enabled = 1, updated_at = $1
                 WHERE org_id = $2 AND id = $3 AND lifecycle = $4",
            )
            .bind(now)
            .bind(org_id)
            .bind(id)
            .bind(<&str>::from(Lifecycle::Linked))
            .execute(self.conn())
            .await?,
        )?;
        Ok(deactivated)
    }

    /// Stops using the connection (keeps its credentials).
    pub async fn deactivate_connection(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE connections SET enabled = 0, updated_at = $1 WHERE org_id = $2 AND id = $3",
            )
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .execute(self.conn())
            .await?,
        )
    }

    /// Records that the connection is linked to `linked_account_id` with this (sealed) token.
    pub async fn set_connection_linked(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
        linked_account_id: &LinkedAccountId,
        token: &Sealed,
        token_last4: &str,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE connections SET linked_account_id = $1, account_token_enc = $2,
                    account_token_key = $3, account_token_last4 = $4, lifecycle = $5, updated_at = $6
                 WHERE org_id = $7 AND id = $8",
            )
            .bind(linked_account_id)
            .bind(token.blob.clone())
            .bind(&token.key_id)
            .bind(token_last4)
            .bind(<&str>::from(Lifecycle::Linked))
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .execute(self.conn())
            .await?,
        )
    }

    /// Stores the result of a health check.
    pub async fn set_connection_health(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
        status: HealthStatus,
        detail: Option<&str>,
        provider_status: Option<&str>,
        checked_at: i64,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE connections SET health_status = $1, health_detail = $2, provider_status = $3,
                    health_since = CASE WHEN health_status = $1 THEN health_since ELSE $4 END,
                    health_checked_at = $4, updated_at = $4
                 WHERE org_id = $5 AND id = $6",
            )
            .bind(status.as_str())
            .bind(detail)
            .bind(provider_status)
            .bind(checked_at)
            .bind(org_id)
            .bind(id)
            .execute(self.conn())
            .await?,
        )
    }

    pub async fn delete_connection(
        &mut self,
        org_id: &OrganizationId,
        id: &ConnectionId,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query("DELETE FROM connections WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .execute(self.conn())
                .await?,
        )
    }
}
