//! Types that cross the wire between the server and the browser.

use serde::{Deserialize, Serialize};

/// What a signed-in user may do. Carried by the session; checked on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ManageIntegrations,
    ServiceDesk,
}

impl Permission {
    /// The name users see, as the admin shell names it (in English; see `Texts::permission`).
    pub fn label(self) -> &'static str {
        crate::i18n::EN.permission(self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ManageIntegrations => "manage_integrations",
            Permission::ServiceDesk => "service_desk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manage_integrations" => Some(Permission::ManageIntegrations),
            "service_desk" => Some(Permission::ServiceDesk),
            _ => None,
        }
    }
}

/// The signed-in user as the UI sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_name: String,
    pub organization_name: String,
    pub permissions: Vec<Permission>,
    /// True when the server runs the dev sign-in (no host shell).
    pub dev_mode: bool,
    /// The user's language (the host token's `locale` claim; English for dev sign-in).
    pub locale: crate::i18n::Locale,
}

impl Viewer {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// A demo user offered by the dev sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub id: String,
    pub name: String,
    pub organization_name: String,
    pub role: DemoRole,
}

/// What a demo user stands for, worded in the reader's language (`Texts::demo_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemoRole {
    Admin,
    User,
    Desk,
    SecondAdmin,
}

/// The organization's HRIS Integration settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrisSettings {
    pub organization_name: String,
    pub enabled: bool,
}

/// Ids are types: a connection id cannot be passed where an organization id is expected. On the wire
/// (JSON, server-function forms) and in the database they are plain strings.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        /// Read access to the text (for display and comparisons); building an id from text is
        /// explicit (`From`).
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A connection to one HR system.
    ConnectionId
);
id_type!(
    /// An organization (a customer of the admin shell).
    OrganizationId
);
id_type!(
    /// A user of the admin shell.
    UserId
);
id_type!(
    /// A magic link issued by the service desk.
    MagicLinkId
);
id_type!(
    /// A linked account at the provider (Merge's `LinkedAccount.id`).
    LinkedAccountId
);
id_type!(
    /// One run of the employee sync of one connection.
    SyncRunId
);
id_type!(
    /// A person in the organization's employee directory: ours, stable across relinks and sources.
    EmployeeId
);
id_type!(
    /// A team, location or group in the organization's directory.
    UnitId
);
id_type!(
    /// A computed preview of switching the organization's source to another connection.
    PreviewId
);

/// How a connection was made: through Merge Link here, or by the service desk's magic link.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConnectionKind {
    Direct,
    Manual,
}

/// Where a connection is in its life. Independent of its health and of whether it is active.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Lifecycle {
    PendingLink,
    Linked,
}

/// An HR system users can connect directly, from the provider's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub slug: String,
    pub name: String,
    pub logo_url: Option<String>,
    pub color: Option<String>,
}

/// The result of the last connection test (and the provider's own view of the account).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HealthStatus {
    /// Never tested.
    Unknown,
    Ok,
    /// The customer has to reconnect (Merge's RELINK_NEEDED, a rejected token).
    RelinkNeeded,
    /// Any other failure (provider unavailable, unexpected answers...).
    Failing,
}

impl HealthStatus {
    /// The stored and CSS name, e.g. `relink_needed`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A connection as the admin sees it. Never carries the account token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub id: ConnectionId,
    pub kind: ConnectionKind,
    pub name: String,
    pub provider_slug: Option<String>,
    pub provider_name: Option<String>,
    pub logo_url: Option<String>,
    pub lifecycle: Lifecycle,
    pub enabled: bool,
    pub health: HealthStatus,
    /// The last test's outcome in words.
    pub health_detail: Option<String>,
    /// When it was last tested, formatted for display (UTC).
    pub checked_at: Option<String>,
    /// The provider's status of the linked account, e.g. COMPLETE or RELINK_NEEDED.
    pub provider_status: Option<String>,
    pub linked_account_id: Option<LinkedAccountId>,
    /// When the connection was created, formatted for display (UTC).
    pub created_at: String,
}

/// An active connection that stopped working, as its banner says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAlert {
    pub connection_id: ConnectionId,
    pub name: String,
    pub health: HealthStatus,
    /// "Personio Germany stopped working at 3 Dec 2026, 14:02 UTC." in the reader's language.
    pub headline: String,
    /// What the last check found, and what to do about it.
    pub reason: String,
}

/// The banners of the organization's active connections that stopped working, and how often the
/// page asks again (the health watch's interval, within 5 to 60 seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAlerts {
    pub alerts: Vec<HealthAlert>,
    pub poll_seconds: u32,
}

/// A Link session the browser can open: the connection it belongs to and a single-use link token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSession {
    pub connection_id: ConnectionId,
    pub link_token: String,
    /// The Merge Link script to load (Merge's CDN, or the sandbox's stand-in).
    pub link_script_url: String,
}

/// What Delete did at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    /// The linked account was deleted at the provider (or there was none yet).
    Revoked,
    /// The provider no longer knew the account or refused its token: its access had already ended.
    AlreadyGoneAtProvider,
}

/// The outcome of Test Connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub ok: bool,
    pub message: String,
    pub checked_at: String,
    pub connection: ConnectionView,
}

/// Where a magic link stands. "Expired" is computed from the issue time, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MagicLinkStatus {
    Pending,
    Used,
    Expired,
    Revoked,
}

impl MagicLinkStatus {
    /// English name; also the badge's CSS class. Users see `Texts::magic_link_status`.
    pub fn label(self) -> &'static str {
        match self {
            MagicLinkStatus::Pending => "Pending",
            MagicLinkStatus::Used => "Used",
            MagicLinkStatus::Expired => "Expired",
            MagicLinkStatus::Revoked => "Revoked",
        }
    }
}

/// A magic link as the service desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MagicLinkView {
    pub id: MagicLinkId,
    pub organization_id: OrganizationId,
    pub provider_slug: Option<String>,
    pub provider_name: Option<String>,
    /// Only while the link can still be used (pending and not expired).
    pub url: Option<String>,
    pub issued_by: String,
    pub issued_at: String,
    pub expires_at: String,
    pub status: MagicLinkStatus,
    /// The linked account's ID, once known (from the webhook, or by polling the provider).
    pub linked_account_id: Option<LinkedAccountId>,
    /// True when the account token arrived and can be revealed for handover.
    pub token_available: bool,
}

/// An organization the service desk can work for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationOption {
    pub id: OrganizationId,
    pub name: String,
}

id_type!(
    /// One received (or replayed) webhook delivery in the desk's webhook log.
    WebhookLogId
);

/// What an audit event records. Stored by its dotted name, e.g. `connection.activated`. Shared with
/// the browser because the timeline renders each one in the reader's language
/// (`Texts::timeline_entry`, an exhaustive match: a new action has no words until it is given some).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
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
    /// The health watch found that an active connection stopped working, or works again
    /// (outcome: the new health).
    #[strum(serialize = "connection.health_changed")]
    ConnectionHealthChanged,
    #[strum(serialize = "magic_link.issued")]
    MagicLinkIssued,
    #[strum(serialize = "magic_link.revoked")]
    MagicLinkRevoked,
    #[strum(serialize = "magic_link.used")]
    MagicLinkUsed,
    #[strum(serialize = "magic_link.token_revealed")]
    MagicLinkTokenRevealed,
    /// A pending magic link ran out. Expiry is a matter of time, not a write: the timeline derives
    /// these entries from the links themselves; nothing records this action.
    #[strum(serialize = "magic_link.expired")]
    MagicLinkExpired,
    /// The service desk replayed a stored webhook delivery.
    #[strum(serialize = "webhook.replayed")]
    WebhookReplayed,
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

/// One line of the timeline: who did what to which thing, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub action: AuditAction,
    /// Who did it; `None` when it happened by itself (a magic link expired).
    pub actor: Option<String>,
    /// The name of the thing it happened to at the time (a connection's name, an HR system, an
    /// event type); empty when not known.
    pub subject: String,
    /// The result, for actions that have one (a test, a replay).
    pub result: Option<EntryResult>,
    /// When, formatted for display (UTC).
    pub at: String,
}

/// The result a timeline entry reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryResult {
    /// What Test Connection found.
    Health(HealthStatus),
    /// What came of a replayed webhook delivery.
    Webhook(WebhookOutcome),
}

/// One page of the timeline, newest first. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub page: u32,
    pub has_more: bool,
}

/// What the signature check said about a received webhook.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WebhookVerdict {
    /// Signed by one of the configured keys.
    Valid,
    /// No signature, or not one at all (not base64url of a SHA-256 MAC).
    Invalid,
    /// A well-formed signature that no configured key produces (a key unknown here, or an
    /// altered body).
    UnknownKey,
}

/// What was done with a webhook delivery.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WebhookOutcome {
    Handled,
    /// The same delivery was handled before (or is being handled right now).
    Duplicate,
    /// Nothing to do with it (an event we do not act on, a body that is not an event).
    Ignored,
    Failed,
    /// The signature did not verify: stored, not acted on.
    Rejected,
}

/// Why a delivery was ignored or failed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WebhookReason {
    NotJson,
    /// An event type we do not act on (or the dashboard's test POST).
    UnknownEvent,
    /// The event lacks a field it needs.
    MissingFields,
    /// A value no database can hold (e.g. a NUL byte): it would fail the same way every time.
    BadInput,
    /// It names a linked account (or magic link) we do not know, or no longer wait for.
    UnknownAccount,
    /// A failure on our side (database, provider); Merge retries it.
    Temporary,
    /// Another request was handling the same delivery at that moment.
    InProgress,
}

/// Why a delivery cannot be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayBlock {
    /// Only deliveries whose signature verified at receipt are replayed.
    SignatureNotValid,
    /// The body was larger than what is kept.
    BodyNotKept,
}

/// A webhook delivery as the service desk sees it. Never carries the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLogView {
    pub id: WebhookLogId,
    /// When it was received (or replayed), formatted for display (UTC).
    pub received_at: String,
    pub event: String,
    pub linked_account_id: Option<String>,
    pub verdict: WebhookVerdict,
    pub outcome: WebhookOutcome,
    pub reason: Option<WebhookReason>,
    /// Set on a replay: the delivery it replayed, and who replayed it.
    pub replay_of: Option<WebhookLogId>,
    pub replayed_by: Option<String>,
    /// True when the desk may replay it (failed or ignored, signature valid, body kept).
    pub replayable: bool,
    /// For a failed or ignored delivery that cannot be replayed: why not.
    pub replay_block: Option<ReplayBlock>,
}

/// One page of the webhook log, newest first. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLogPage {
    pub entries: Vec<WebhookLogView>,
    pub page: u32,
    pub has_more: bool,
}

// The employee sync as the admin sees it (issue 14). Plain data: the page words it in its own
// language (`Texts::sync_state`, `Texts::run_outcome`, ...); times are Unix milliseconds, worded by
// `i18n::format_instant`. Internal error strings never leave the server.

/// Where the active connection's sync stands, in words the admin reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    NeverSynced,
    Queued,
    Running,
    UpToDate,
    NeedsAttention,
}

/// What made a run (as the history shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    Activation,
    Relink,
    /// The daily full sync.
    Schedule,
    /// The hourly check of Merge's sync status.
    Poll,
    Webhook,
    /// An admin's "Sync now".
    Manual,
}

/// How a run ended (`None` in [`SyncRunView`] while it is queued or running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    Done,
    Held,
    Partial,
    ProviderFailed,
    Unauthorized,
    Failed,
}

/// A run's counts of people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub added: i64,
    pub changed: i64,
    pub deactivated: i64,
    pub reactivated: i64,
    pub held: i64,
}

/// One run, as the history and the host events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunView {
    pub id: SyncRunId,
    pub trigger: RunTrigger,
    /// Queued, running or finished: `running` while a worker has it.
    pub running: bool,
    pub finished: bool,
    pub result: Option<RunResult>,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub counts: SyncCounts,
}

/// How far a running run got in one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamProgressView {
    /// `locations`, `teams`, `groups`, `employees`, `employments` (worded by the page).
    pub stream: String,
    pub pages: i64,
    pub records: i64,
    pub done: bool,
}

/// The sync card of the organization's active connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOverview {
    pub connection_id: ConnectionId,
    pub name: String,
    pub state: SyncState,
    /// The newest run (queued, running or finished), if any.
    pub latest: Option<SyncRunView>,
    /// While a run is running: its streams so far.
    pub progress: Vec<StreamProgressView>,
    /// When the last run that read everything it meant to finished.
    pub last_success_at: Option<i64>,
    /// When the schedule syncs next (`None`: the schedule is stopped until a relink).
    pub next_at: Option<i64>,
    /// People in the directory now (active).
    pub people: i64,
    /// How often the page asks again, in seconds (quicker while a run is pending).
    pub poll_seconds: u32,
}

/// A page of the sync history, newest first. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHistoryPage {
    pub runs: Vec<SyncRunView>,
    pub page: u32,
    pub has_more: bool,
}

/// Why a held person would leave the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Terminated,
    Deleted,
    Missing,
}

/// One person whose removal the safety brake held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPerson {
    pub name: String,
    pub email: Option<String>,
    pub team: Option<String>,
    /// When a sync last saw the person in the HR system (or last changed them here).
    pub last_seen_at: i64,
    pub reason: LeaveReason,
}

/// Removals the safety brake holds for the admin's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRemovals {
    pub run_id: SyncRunId,
    pub count: i64,
    /// People active in the directory (what the share is of).
    pub active: i64,
    /// The brake's limit, percent of the active directory.
    pub limit_percent: u32,
    /// The first people held (at most [`HeldRemovals::SHOWN`]), by name.
    pub people: Vec<HeldPerson>,
}

impl HeldRemovals {
    pub const SHOWN: i64 = 200;
}

/// One person of the synced directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPerson {
    pub id: EmployeeId,
    pub name: String,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub location: Option<String>,
    pub active: bool,
    pub modified_at: i64,
}

/// Which people the directory lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeopleFilter {
    #[default]
    Active,
    Inactive,
    All,
}

impl PeopleFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            PeopleFilter::Active => "active",
            PeopleFilter::Inactive => "inactive",
            PeopleFilter::All => "all",
        }
    }

    /// `active`, `inactive`, `all`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(PeopleFilter::Active),
            "inactive" => Some(PeopleFilter::Inactive),
            "all" => Some(PeopleFilter::All),
            _ => None,
        }
    }
}

/// A page of the directory in name order; `next` continues after its last person (keyset paging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    pub people: Vec<DirectoryPerson>,
    pub next: Option<String>,
}

/// What switching the organization's source to another connection would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchPreview {
    pub id: PreviewId,
    pub connection_id: ConnectionId,
    /// People of the new source who are not in the directory yet.
    pub joiners: i64,
    /// People in the directory the new source does not have.
    pub leavers: i64,
    /// People in both (they keep their ids)...
    pub matched: i64,
    /// ...of whom this many were matched by work e-mail.
    pub matched_by_email: i64,
}

/// What Activate did: the connection is active, or (another one being the source of a directory
/// with people) a preview waits for Confirm or Cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    Activated(ConnectionView),
    Preview(SwitchPreview),
}
