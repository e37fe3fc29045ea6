//! Background work, once an hour: removes expired sessions, used host tokens that can no longer
//! verify, old webhook delivery records and old entries of the webhook log.

use std::time::Duration;

use app::storage::{now_ms, Db};

const EVERY: Duration = Duration::from_secs(3600);
/// Webhook deliveries are kept this long to recognise replays (Merge retries within about an hour).
const KEEP_DELIVERIES_MS: i64 = 7 * 24 * 3600 * 1000;
/// The webhook log (with the bodies kept for replay) covers this long.
const KEEP_WEBHOOK_LOG_MS: i64 = 30 * 24 * 3600 * 1000;

/// One round; returns (sessions removed, deliveries removed).
pub async fn sweep(db: &Db) -> Result<(u64, u64), app::storage::StoreError> {
    let now = now_ms();
    let sessions = db.purge_expired_sessions(now).await?;
    db.purge_used_host_tokens(now).await?;
    let deliveries = db
        .purge_webhook_deliveries(now - KEEP_DELIVERIES_MS)
        .await?;
    db.purge_webhook_log(now - KEEP_WEBHOOK_LOG_MS).await?;
    Ok((sessions, deliveries))
}

/// Runs `sweep` every hour until the task is aborted.
pub fn spawn(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match sweep(&db).await {
                Ok((s, d)) if s + d > 0 => {
                    tracing::info!(sessions = s, webhook_deliveries = d, "housekeeping")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::storage::SessionRecord;

    #[tokio::test]
    async fn expired_sessions_go_and_live_ones_stay() {
        let file =
            std::env::temp_dir().join(format!("hris-housekeeping-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        db.upsert_organization(&"o".into(), "O").await.unwrap();
        for (id, expires_at) in [("old", 1), ("live", i64::MAX)] {
            db.insert_session(&SessionRecord {
                id_hash: id.into(),
                org_id: "o".into(),
                user_id: "u".into(),
                user_name: "U".into(),
                locale: "en".into(),
                permissions: String::new(),
                created_at: 0,
                last_seen_at: 0,
                expires_at,
            })
            .await
            .unwrap();
        }
        assert_eq!(sweep(&db).await.unwrap().0, 1);
        assert!(db.live_session("live", now_ms()).await.unwrap().is_some());
        db.close().await;
        let _ = std::fs::remove_file(file);
    }
}
