use super::{connections::Parsed, now_ms, Db, StoreResult, Tx};
use crate::model::{ConnectionId, MagicLinkId, OrganizationId, UserId};

/// What an audit event records. Stored by its dotted name, e.g. `connection.activated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
pub enum AuditAction {
    #[strum(serialize = "hris.enabled")]
    HrisEnabled,
    #[strum(serialize = "hris.disabled")]
    HrisDisabled,
    #[strum(serialize = "connection.created")]
    ConnectionCreated,
    #[strum(serialize = "connection.linked")]
    ConnectionLinked,
    #[strum(serialize = "connection.relinked")]
    ConnectionRelinked,
    #[strum(serialize = "connection.relink_refused")]
    ConnectionRelinkRefused,
    #[strum(serialize = "connection.link_refused")]
    ConnectionLinkRefused,
    #[strum(serialize = "connection.tested")]
    ConnectionTested,
    #[strum(serialize = "connection.activated")]
    ConnectionActivated,
    #[strum(serialize = "connection.deactivated")]
    ConnectionDeactivated,
    #[strum(serialize = "connection.deleted")]
    ConnectionDeleted,
    #[strum(serialize = "connection.added_manually")]
    ConnectionAddedManually,
    #[strum(serialize = "connection.token_replaced")]
    ConnectionTokenReplaced,
    #[strum(serialize = "magic_link.issued")]
    MagicLinkIssued,
    #[strum(serialize = "magic_link.revoked")]
    MagicLinkRevoked,
    #[strum(serialize = "magic_link.used")]
    MagicLinkUsed,
    #[strum(serialize = "magic_link.token_revealed")]
    MagicLinkTokenRevealed,
    /// A sync run changed the directory (detail: its counts).
    #[strum(serialize = "sync.completed")]
    SyncCompleted,
    /// A sync run ended without applying (Merge failed, token refused, gave up).
    #[strum(serialize = "sync.failed")]
    SyncFailed,
    /// The safety brake held a run's deactivations for an admin.
    #[strum(serialize = "sync.removals_held")]
    SyncRemovalsHeld,
    #[strum(serialize = "sync.removals_applied")]
    SyncRemovalsApplied,
    #[strum(serialize = "sync.removals_kept")]
    SyncRemovalsKept,
    /// The organization's source of people moved to another connection (after its preview).
    #[strum(serialize = "sync.source_switched")]
    SyncSourceSwitched,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The thing an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSubject {
    Organization(OrganizationId),
    Connection(ConnectionId),
    MagicLink(MagicLinkId),
}

impl AuditSubject {
    fn columns(&self) -> (&'static str, &str) {
        match self {
            AuditSubject::Organization(id) => ("organization", id.as_str()),
            AuditSubject::Connection(id) => ("connection", id.as_str()),
            AuditSubject::MagicLink(id) => ("magic_link", id.as_str()),
        }
    }

    fn from_columns(kind: &str, id: String) -> Result<Self, sqlx::Error> {
        Ok(match kind {
            "organization" => AuditSubject::Organization(id.into()),
            "connection" => AuditSubject::Connection(id.into()),
            "magic_link" => AuditSubject::MagicLink(id.into()),
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
            name: "HRIS Connect (sync)".into(),
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
            created_at: now_ms(),
        }
    }
}

impl Tx {
    pub async fn record_audit(&mut self, e: &AuditEvent) -> StoreResult<()> {
        let (subject_type, subject_id) = e.subject.columns();
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.actor.id)
        .bind(&e.actor.name)
        .bind(e.action.as_str())
        .bind(subject_type)
        .bind(subject_id)
        .bind(&e.detail)
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
            "SELECT id, org_id, actor_id, actor_name, action, subject_type, subject_id, detail, created_at
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
