use super::{now_ms, Db, StoreResult};

/// One recorded change: who did what to which thing, and when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: String,
    pub org_id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: String,
    pub created_at: i64,
}

impl AuditEvent {
    /// A new event stamped now. Ids are UUIDv7, so they sort in the order events happened.
    pub fn new(
        org_id: &str,
        actor_id: &str,
        actor_name: &str,
        action: &str,
        subject: (&str, &str),
        detail: impl Into<String>,
    ) -> Self {
        AuditEvent {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org_id.into(),
            actor_id: actor_id.into(),
            actor_name: actor_name.into(),
            action: action.into(),
            subject_type: subject.0.into(),
            subject_id: subject.1.into(),
            detail: detail.into(),
            created_at: now_ms(),
        }
    }
}

impl Db {
    pub async fn record_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.actor_id)
        .bind(&e.actor_name)
        .bind(&e.action)
        .bind(&e.subject_type)
        .bind(&e.subject_id)
        .bind(&e.detail)
        .bind(e.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The organization's events, newest first.
    pub async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        Ok(sqlx::query_as::<_, AuditEvent>(
            "SELECT id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail, created_at
             FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
