use super::{now_ms, sealed_from_columns, Db, StoreResult};
use crate::crypto::Sealed;

/// A magic link issued by the service desk. `state` is pending, used or revoked; "expired" is computed
/// from `expires_at`, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLinkRecord {
    pub id: String,
    pub org_id: String,
    pub provider_slug: Option<String>,
    pub end_user_origin_id: String,
    /// The URL is a bearer secret for the customer's HR system: sealed like a token.
    pub url: Sealed,
    pub issued_by_id: String,
    pub issued_by_name: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub state: String,
    pub linked_account_id: Option<String>,
    pub account_token: Option<Sealed>,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    provider_slug: Option<String>,
    end_user_origin_id: String,
    url_enc: Vec<u8>,
    url_key: String,
    issued_by_id: String,
    issued_by_name: String,
    issued_at: i64,
    expires_at: i64,
    state: String,
    linked_account_id: Option<String>,
    account_token_enc: Option<Vec<u8>>,
    account_token_key: Option<String>,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<Row> for MagicLinkRecord {
    fn from(r: Row) -> Self {
        MagicLinkRecord {
            url: Sealed {
                key_id: r.url_key,
                blob: r.url_enc,
            },
            account_token: sealed_from_columns(r.account_token_enc, r.account_token_key),
            id: r.id,
            org_id: r.org_id,
            provider_slug: r.provider_slug,
            end_user_origin_id: r.end_user_origin_id,
            issued_by_id: r.issued_by_id,
            issued_by_name: r.issued_by_name,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            state: r.state,
            linked_account_id: r.linked_account_id,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const COLUMNS: &str = "id, org_id, provider_slug, end_user_origin_id, url_enc, url_key, issued_by_id,
    issued_by_name, issued_at, expires_at, state, linked_account_id, account_token_enc, account_token_key,
    used_at, revoked_at";

#[derive(Debug, Clone)]
pub struct NewMagicLink {
    pub id: String,
    pub org_id: String,
    pub provider_slug: Option<String>,
    pub end_user_origin_id: String,
    pub url: Sealed,
    pub issued_by_id: String,
    pub issued_by_name: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Db {
    pub async fn insert_magic_link(&self, m: &NewMagicLink) -> StoreResult<MagicLinkRecord> {
        sqlx::query(
            "INSERT INTO magic_links (id, org_id, provider_slug, end_user_origin_id, url_enc, url_key,
                issued_by_id, issued_by_name, issued_at, expires_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
        )
        .bind(&m.id)
        .bind(&m.org_id)
        .bind(&m.provider_slug)
        .bind(&m.end_user_origin_id)
        .bind(m.url.blob.clone())
        .bind(&m.url.key_id)
        .bind(&m.issued_by_id)
        .bind(&m.issued_by_name)
        .bind(m.issued_at)
        .bind(m.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(self
            .magic_link(&m.org_id, &m.id)
            .await?
            .expect("magic link just written"))
    }

    pub async fn magic_link(&self, org_id: &str, id: &str) -> StoreResult<Option<MagicLinkRecord>> {
        Ok(sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS} FROM magic_links WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(Into::into))
    }

    /// The organization's magic links, newest first.
    pub async fn magic_links(&self, org_id: &str) -> StoreResult<Vec<MagicLinkRecord>> {
        Ok(sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS} FROM magic_links WHERE org_id = $1 ORDER BY issued_at DESC, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    /// Revokes a pending link; returns false if it is not pending (or not the organization's).
    pub async fn revoke_magic_link(&self, org_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE magic_links SET state = 'revoked', revoked_at = $1
             WHERE org_id = $2 AND id = $3 AND state = 'pending'",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the pending link with this origin id as used by `linked_account_id`, keeping its token.
    pub async fn use_magic_link(
        &self,
        end_user_origin_id: &str,
        linked_account_id: &str,
        token: &Sealed,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE magic_links SET state = 'used', used_at = $1, linked_account_id = $2,
                account_token_enc = $3, account_token_key = $4
             WHERE end_user_origin_id = $5 AND state = 'pending'",
        )
        .bind(now_ms())
        .bind(linked_account_id)
        .bind(token.blob.clone())
        .bind(&token.key_id)
        .bind(end_user_origin_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Db {
    /// Records the linked account found by polling the provider (the token still comes by webhook).
    pub async fn set_magic_link_account(
        &self,
        org_id: &str,
        id: &str,
        linked_account_id: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE magic_links SET linked_account_id = $1 WHERE org_id = $2 AND id = $3 AND linked_account_id IS NULL",
        )
        .bind(linked_account_id)
        .bind(org_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
