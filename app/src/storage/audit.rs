use super::{connections::Parsed, now_ms, Db, StoreResult, Tx};
use crate::model::{ConnectionId, MagicLinkId, OrganizationId, UserId, WebhookLogId};

/// What an audit event records (shared with the browser, which renders the timeline).
pub use crate::model::AuditAction;

/// The thing an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSubject {
    Organization(OrganizationId),
    Connection(ConnectionId),
    MagicLink(MagicLinkId),
    WebhookDelivery(WebhookLogId),
}

impl AuditSubject {
    fn columns(&self) -> (&'static str, &str) {
        match self {
            AuditSubject::Organization(id) => ("organization", id.as_str()),
            AuditSubject::Connection(id) => ("connection", id.as_str()),
            AuditSubject::MagicLink(id) => ("magic_link", id.as_str()),
            AuditSubject::WebhookDelivery(id) => ("webhook_delivery", id.as_str()),
        }
    }

    fn from_columns(kind: &str, id: String) -> Result<Self, sqlx::Error> {
        Ok(match kind {
            "organization" => AuditSubject::Organization(id.into()),
            "connection" => AuditSubject::Connection(id.into()),
            "magic_link" => AuditSubject::MagicLink(id.into()),
            "webhook_delivery" => AuditSubject::WebhookDelivery(id.into()),
            other => {
                return Err(sqlx::Error::Decode(
                    format!("unknown audit subject type {other:?}").into(),
                ))
            }
        })
    }
}

/// Who did it: a user of the admin shell, or the system acting on a provider's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
}

impl Actor {
    /// The sync acting on its own (schedule, webhook, a run's outcome).
    pub fn sync() -> Actor {
        Actor {
            id: "hris-connect".into(),
            name: "HRIS Connect".into(),
        }
    }
}

/// One recorded change: who did what to which thing, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub org_id: OrganizationId,
    pub actor: Actor,
    pub action: AuditAction,
    pub subject: AuditSubject,
    pub detail: String,
    /// The subject's name at the time (a connection's name, an HR system...), for the timeline;
    /// empty when not given.
    pub subject_name: String,
    /// A machine-readable result, e.g. a test's health (`ok`, `failing`); empty when none.
    pub outcome: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: OrganizationId,
    actor_id: UserId,
    actor_name: String,
    #[sqlx(try_from = "String")]
    action: Parsed<AuditAction>,
    subject_type: String,
    subject_id: String,
    detail: String,
    subject_name: String,
    outcome: String,
    created_at: i64,
}

impl TryFrom<Row> for AuditEvent {
    type Error = sqlx::Error;
    fn try_from(r: Row) -> Result<Self, sqlx::Error> {
        Ok(AuditEvent {
            subject: AuditSubject::from_columns(&r.subject_type, r.subject_id)?,
            id: r.id,
            org_id: r.org_id,
            actor: Actor {
                id: r.actor_id,
                name: r.actor_name,
            },
            action: r.action.0,
            detail: r.detail,
            subject_name: r.subject_name,
            outcome: r.outcome,
            created_at: r.created_at,
        })
    }
}

impl AuditEvent {
    /// A new event stamped now. Ids are UUIDv7, so they sort in the order events happened.
    pub fn new(
        org_id: &OrganizationId,
        actor: Actor,
        action: AuditAction,
        subject: AuditSubject,
        detail: impl Into<String>,
    ) -> Self {
        AuditEvent {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org_id.clone(),
            actor,
            action,
            subject,
            detail: detail.into(),
            subject_name: String::new(),
            outcome: String::new(),
            created_at: now_ms(),
        }
    }

    /// The subject's name as the timeline shows it.
    pub fn with_subject_name(mut self, name: impl Into<String>) -> Self {
        self.subject_name = name.into();
        self
    }

    /// A machine-readable result (see [`AuditEvent::outcome`]).
    pub fn with_outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = outcome.into();
        self
    }
}

impl Tx {
    pub async fn record_audit(&mut self, e: &AuditEvent) -> StoreResult<()> {
        let (subject_type, subject_id) = e.subject.columns();
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail,
                 subject_name, outcome, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.actor.id)
        .bind(&e.actor.name)
        .bind(e.action.as_str())
        .bind(subject_type)
        .bind(subject_id)
        .bind(&e.detail)
        .bind(&e.subject_name)
        .bind(&e.outcome)
        .bind(e.created_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Db {
    /// The organization's events, newest first.
    pub async fn audit_events(
        &self,
        org_id: &OrganizationId,
        limit: i64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail,
                 subject_name, outcome, created_at
             FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<_, _>>()?)
    }
}

/// The actor of entries nobody made (a magic link that expired).
pub const SYSTEM_ACTOR: &str = "system";

impl Db {
    /// One page of the organization's timeline, newest first: its audit events and, derived from
    /// the links themselves, the magic links that expired unused (expiry is not a write). `limit`
    /// rows from `offset`.
    pub async fn timeline(
        &self,
        org_id: &OrganizationId,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query_as::<_, Row>(sql!(
            "SELECT id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail,
                 subject_name, outcome, created_at
             FROM audit_events WHERE org_id = $1
             UNION ALL
             SELECT id, org_id, '{SYSTEM_ACTOR}', '', 'magic_link.expired', 'magic_link', id, '',
                 '', '', expires_at
             FROM magic_links WHERE org_id = $1 AND state = 'pending' AND expires_at <= $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(org_id)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<_, _>>()?)
    }
}
