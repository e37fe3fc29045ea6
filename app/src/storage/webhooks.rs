//! Webhook deliveries already received (replay protection for `POST /webhooks/merge`), and the
//! webhook log the service desk reads (every delivery, with its verdict, outcome and sealed body).

use super::{connections::Parsed, sealed_columns, sealed_from_columns, Db, StoreResult, Tx};
use crate::{
    crypto::Sealed,
    model::{WebhookLogId, WebhookOutcome, WebhookReason, WebhookVerdict},
};

/// What a receiver may do with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// First sight (or a stale, abandoned attempt): process it, then `finish` or `release`.
    New,
    /// Processed before: answer "already handled" and do nothing.
    AlreadyDone,
    /// Another request is processing the same delivery right now.
    InProgress,
}

impl Db {
    /// Claims the delivery `id` (the SHA-256 of its signature). An attempt still `processing` after
    /// `stale_after_ms` is taken over (its request died).
    pub async fn claim_webhook_delivery(
        &self,
        id: &str,
        event: &str,
        now: i64,
        stale_after_ms: i64,
    ) -> StoreResult<DeliveryClaim> {
        let inserted = sqlx::query(
            "INSERT INTO webhook_deliveries (id, event, state, received_at, updated_at)
             VALUES ($1, $2, 'processing', $3, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(event)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(DeliveryClaim::New);
        }
        let taken_over = sqlx::query(
            "UPDATE webhook_deliveries SET updated_at = $1
             WHERE id = $2 AND state = 'processing' AND updated_at < $3",
        )
        .bind(now)
        .bind(id)
        .bind(now - stale_after_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if taken_over == 1 {
            return Ok(DeliveryClaim::New);
        }
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM webhook_deliveries WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match state.as_deref() {
            Some("done") => DeliveryClaim::AlreadyDone,
            Some(_) => DeliveryClaim::InProgress,
            // Released between our statements: let the provider retry.
            None => DeliveryClaim::InProgress,
        })
    }

    /// Marks a claimed delivery as handled: replays are answered "already handled" from now on.
    pub async fn finish_webhook_delivery(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE webhook_deliveries SET state = 'done', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a claimed delivery back after a failure, so the provider's retry is processed.
    pub async fn release_webhook_delivery(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1 AND state = 'processing'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets deliveries received before `before` (replays older than that are not expected).
    pub async fn purge_webhook_deliveries(&self, before: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1 AND state = 'done'")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

/// One delivery of the webhook log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookLogRecord {
    pub id: WebhookLogId,
    pub received_at: i64,
    pub event: String,
    pub linked_account_id: Option<String>,
    pub verdict: WebhookVerdict,
    pub outcome: WebhookOutcome,
    pub reason: Option<WebhookReason>,
    /// The size of the body as received.
    pub body_bytes: i64,
    /// The body, sealed; `None` when it was too large to keep.
    pub body: Option<Sealed>,
    pub replay_of: Option<WebhookLogId>,
    pub replayed_by_name: Option<String>,
}

impl WebhookLogRecord {
    /// A new entry stamped now. Ids are UUIDv7, so they sort in the order deliveries arrived.
    pub fn new(event: impl Into<String>, verdict: WebhookVerdict, outcome: WebhookOutcome) -> Self {
        WebhookLogRecord {
            id: uuid::Uuid::now_v7().to_string().into(),
            received_at: super::now_ms(),
            event: event.into(),
            linked_account_id: None,
            verdict,
            outcome,
            reason: None,
            body_bytes: 0,
            body: None,
            replay_of: None,
            replayed_by_name: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: WebhookLogId,
    received_at: i64,
    event: String,
    linked_account_id: Option<String>,
    #[sqlx(try_from = "String")]
    verdict: Parsed<WebhookVerdict>,
    #[sqlx(try_from = "String")]
    outcome: Parsed<WebhookOutcome>,
    reason: Option<String>,
    body_bytes: i64,
    body_enc: Option<Vec<u8>>,
    body_key: Option<String>,
    replay_of: Option<WebhookLogId>,
    replayed_by_name: Option<String>,
}

impl TryFrom<LogRow> for WebhookLogRecord {
    type Error = sqlx::Error;
    fn try_from(r: LogRow) -> Result<Self, sqlx::Error> {
        let reason = match r.reason {
            Some(s) => Some(
                s.parse::<WebhookReason>()
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            ),
            None => None,
        };
        Ok(WebhookLogRecord {
            id: r.id,
            received_at: r.received_at,
            event: r.event,
            linked_account_id: r.linked_account_id,
            verdict: r.verdict.0,
            outcome: r.outcome.0,
            reason,
            body_bytes: r.body_bytes,
            body: sealed_from_columns(r.body_enc, r.body_key),
            replay_of: r.replay_of,
            replayed_by_name: r.replayed_by_name,
        })
    }
}

const LOG_COLUMNS: &str = "id, received_at, event, linked_account_id, verdict, outcome, reason, \
    body_bytes, body_enc, body_key, replay_of, replayed_by_name";

async fn insert_log<'c, E>(conn: E, r: &WebhookLogRecord) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (enc, key) = sealed_columns(r.body.as_ref());
    sqlx::query(sql!(
        "INSERT INTO webhook_log ({LOG_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&r.id)
    .bind(r.received_at)
    .bind(&r.event)
    .bind(&r.linked_account_id)
    .bind(<&str>::from(r.verdict))
    .bind(<&str>::from(r.outcome))
    .bind(r.reason.map(<&str>::from))
    .bind(r.body_bytes)
    .bind(enc)
    .bind(key)
    .bind(&r.replay_of)
    .bind(&r.replayed_by_name)
    .execute(conn)
    .await?;
    Ok(())
}

impl Db {
    /// Adds a received delivery to the webhook log.
    pub async fn record_webhook(&self, r: &WebhookLogRecord) -> StoreResult<()> {
        insert_log(&self.pool, r).await
    }

    /// One page of the webhook log, newest first: `limit` entries from `offset`.
    pub async fn webhook_log(&self, limit: i64, offset: i64) -> StoreResult<Vec<WebhookLogRecord>> {
        let rows = sqlx::query_as::<_, LogRow>(sql!(
            "SELECT {LOG_COLUMNS} FROM webhook_log ORDER BY id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(WebhookLogRecord::try_from)
            .collect::<Result<_, _>>()?)
    }

    pub async fn webhook_log_entry(
        &self,
        id: &WebhookLogId,
    ) -> StoreResult<Option<WebhookLogRecord>> {
        let row = sqlx::query_as::<_, LogRow>(sql!(
            "SELECT {LOG_COLUMNS} FROM webhook_log WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(WebhookLogRecord::try_from).transpose()?)
    }

    /// True when a connection or a magic link was made for `end_user_origin_id`.
    pub async fn origin_known(&self, end_user_origin_id: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM connections WHERE end_user_origin_id = $1)
                  + (SELECT COUNT(*) FROM magic_links WHERE end_user_origin_id = $1)",
        )
        .bind(end_user_origin_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Forgets log entries received before `before`.
    pub async fn purge_webhook_log(&self, before: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM webhook_log WHERE received_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

impl Tx {
    /// Adds a replay to the webhook log, together with the rest of the transaction (its audit event).
    pub async fn record_webhook(&mut self, r: &WebhookLogRecord) -> StoreResult<()> {
        insert_log(self.conn(), r).await
    }
}
