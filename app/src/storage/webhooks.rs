//! Webhook deliveries already received (replay protection for `POST /webhooks/merge`).

use super::{Db, StoreResult};

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
