use sqlx::{Any, Executor};

use super::{connections::Parsed, now_ms, one_row, sealed_from_columns, Db, StoreResult, Tx};
use crate::{
    crypto::Sealed,
    model::{LinkedAccountId, MagicLinkId, OrganizationId, UserId},
};

/// What is stored about a magic link's use. "Expired" is computed from `expires_at`, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum MagicLinkState {
    Pending,
    Used,
    Revoked,
}

/// A magic link issued by the service desk. `state` is pending, used or revoked; "expired" is computed
/// from `expires_at`, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLinkRecord {
    pub id: MagicLinkId,
    pub org_id: OrganizationId,
    pub provider_slug: Option<String>,
    pub end_user_origin_id: String,
    /// The URL is a bearer secret for the customer's HR system: sealed like a token.
    pub url: Sealed,
    pub issued_by_id: UserId,
    pub issued_by_name: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub state: MagicLinkState,
    pub linked_account_id: Option<LinkedAccountId>,
    pub account_token: Option<Sealed>,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: MagicLinkId,
    org_id: OrganizationId,
    provider_slug: Option<String>,
    end_user_origin_id: String,
    url_enc: Vec<u8>,
    url_key: String,
    issued_by_id: UserId,
    issued_by_name: String,
    issued_at: i64,
    expires_at: i64,
    #[sqlx(try_from = "String")]
    state: Parsed<MagicLinkState>,
    linked_account_id: Option<LinkedAccountId>,
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
            state: r.state.0,
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
    pub id: MagicLinkId,
    pub org_id: OrganizationId,
    pub provider_slug: Option<String>,
    pub end_user_origin_id: String,
    pub url: Sealed,
    pub issued_by_id: UserId,
    pub issued_by_name: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

async fn fetch<'e>(
    e: impl Executor<'e, Database = Any>,
    org_id: &OrganizationId,
    id: &MagicLinkId,
) -> StoreResult<Option<MagicLinkRecord>> {
    Ok(sqlx::query_as::<_, Row>(sql!(
        "SELECT {COLUMNS} FROM magic_links WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(e)
    .await?
    .map(Into::into))
}

impl Tx {
    pub async fn magic_link(
        &mut self,
        org_id: &OrganizationId,
        id: &MagicLinkId,
    ) -> StoreResult<Option<MagicLinkRecord>> {
        fetch(self.conn(), org_id, id).await
    }

    pub async fn insert_magic_link(&mut self, m: &NewMagicLink) -> StoreResult<MagicLinkRecord> {
        sqlx::query(
            "INSERT INTO magic_links (id, org_id, provider_slug, end_user_origin_id, url_enc, url_key,
                issued_by_id, issued_by_name, issued_at, expires_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .bind(<&str>::from(MagicLinkState::Pending))
        .execute(self.conn())
        .await?;
        self.magic_link(&m.org_id, &m.id)
            .await?
            .ok_or(super::StoreError::Missing)
    }

    /// Revokes a pending link; `StoreError::Missing` if it is not pending (or not the organization's).
    pub async fn revoke_magic_link(
        &mut self,
        org_id: &OrganizationId,
        id: &MagicLinkId,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE magic_links SET state = $1, revoked_at = $2
                 WHERE org_id = $3 AND id = $4 AND state = $5",
            )
            .bind(<&str>::from(MagicLinkState::Revoked))
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .bind(<&str>::from(MagicLinkState::Pending))
            .execute(self.conn())
            .await?,
        )
    }

    /// Marks the pending link with this origin id as used by `linked_account_id`, keeping its token.
    /// Returns the link's organization and id; `StoreError::Missing` when no pending link has it.
    pub async fn use_magic_link(
        &mut self,
        end_user_origin_id: &str,
        linked_account_id: &LinkedAccountId,
        token: &Sealed,
    ) -> StoreResult<(OrganizationId, MagicLinkId)> {
        sqlx::query_as::<_, (OrganizationId, MagicLinkId)>(
            "UPDATE magic_links SET state = $1, used_at = $2, linked_account_id = $3,
                account_token_enc = $4, account_token_key = $5
             WHERE end_user_origin_id = $6 AND state = $7 RETURNING org_id, id",
        )
        .bind(<&str>::from(MagicLinkState::Used))
        .bind(now_ms())
        .bind(linked_account_id)
        .bind(token.blob.clone())
        .bind(&token.key_id)
        .bind(end_user_origin_id)
        .bind(<&str>::from(MagicLinkState::Pending))
        .fetch_optional(self.conn())
        .await?
        .ok_or(super::StoreError::Missing)
    }
}

impl Db {
    pub async fn magic_link(
        &self,
        org_id: &OrganizationId,
        id: &MagicLinkId,
    ) -> StoreResult<Option<MagicLinkRecord>> {
        fetch(&self.pool, org_id, id).await
    }

    /// The organization's magic links, newest first.
    pub async fn magic_links(&self, org_id: &OrganizationId) -> StoreResult<Vec<MagicLinkRecord>> {
        Ok(sqlx::query_as::<_, Row>(sql!(
            "SELECT {COLUMNS} FROM magic_links WHERE org_id = $1 ORDER BY issued_at DESC, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    /// Records the linked account found by polling the provider (the token still comes by webhook).
    /// A single write with no audit event; false when the link already knew its account.
    pub async fn set_magic_link_account(
        &self,
        org_id: &OrganizationId,
        id: &MagicLinkId,
        linked_account_id: &LinkedAccountId,
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
