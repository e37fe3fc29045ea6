use super::{Db, StoreResult};
use crate::model::{OrganizationId, UserId};

/// A signed-in browser. The cookie holds a random token; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub id_hash: String,
    pub org_id: OrganizationId,
    pub user_id: UserId,
    pub user_name: String,
    pub locale: String,
    /// Space-separated permission names.
    pub permissions: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str =
    "id_hash, org_id, user_id, user_name, locale, permissions, created_at, last_seen_at, expires_at";

impl Db {
    pub async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(sql!(
            "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&s.id_hash)
        .bind(&s.org_id)
        .bind(&s.user_id)
        .bind(&s.user_name)
        .bind(&s.locale)
        .bind(&s.permissions)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session if it exists and has not expired at `now`.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> StoreResult<Option<SessionRecord>> {
        Ok(sqlx::query_as::<_, SessionRecord>(sql!(
            "SELECT {COLUMNS} FROM sessions WHERE id_hash = $1 AND expires_at > $2"
        ))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The live session with its organization's name, in one query: the identity layer's lookup on
    /// every request (a session goes with its organization: `ON DELETE CASCADE`).
    pub async fn live_session_with_org_name(
        &self,
        id_hash: &str,
        now: i64,
    ) -> StoreResult<Option<(SessionRecord, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: SessionRecord,
            org_name: String,
        }
        Ok(sqlx::query_as::<_, Row>(
            "SELECT s.*, o.name AS org_name FROM sessions s \
             JOIN organizations o ON o.id = s.org_id WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| (r.session, r.org_name)))
    }

    /// Extends a session's life after activity.
    pub async fn touch_session(&self, id_hash: &str, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3")
            .bind(now)
            .bind(expires_at)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn purge_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Records that a host sign-in token was used; false when it already was (a replay). Atomic
    /// across server instances: the row's primary key decides.
    pub async fn claim_host_token(&self, token_hash: &str, expires_at: i64) -> StoreResult<bool> {
        Ok(sqlx::query(
            "INSERT INTO used_host_tokens (token_hash, expires_at) VALUES ($1, $2)
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(token_hash)
        .bind(expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Forgets used host tokens that can no longer verify at `now`; returns how many.
    pub async fn purge_used_host_tokens(&self, now: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM used_host_tokens WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
