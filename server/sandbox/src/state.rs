//! The sandbox's memory: linked accounts, link sessions, public tokens, faults, the clock.
//!
//! One `std::sync::Mutex`, never held across an `.await`.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, MutexGuard,
    },
};

use crate::wire::{self, LinkStatus};
use rand::{distributions::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{
    data::{
        edits::{OrgState, View},
        Org, DIRECTORY,
    },
    SandboxConfig, WebhookTarget, DEMO_PASSWORD,
};

/// The sandbox keeps public tokens this long (on its clock). Whether Merge lets a public token be
/// exchanged more than once is UNCONFIRMED; the sandbox allows it until expiry, so a retried
/// exchange after a network error works.
const PUBLIC_TOKEN_TTL: Duration = Duration::minutes(30);

pub struct Sandbox {
    pub config: SandboxConfig,
    pub public_url: String,
    inner: Mutex<Inner>,
    /// Requests to `/api`, for tests that count retries.
    pub api_requests: AtomicU64,
    pub http: reqwest::Client,
}

#[derive(Default)]
pub struct Inner {
    pub clock_offset: Duration,
    pub link_sessions: HashMap<String, LinkSession>,
    /// Magic link id → link token.
    pub magic_links: HashMap<String, String>,
    pub public_tokens: HashMap<String, (String, OffsetDateTime)>,
    pub accounts: Vec<Account>,
    /// Employees per `end_user_origin_id` (or data key), set through the control API.
    pub org_sizes: HashMap<String, usize>,
    /// Organizations (origin id or data key) whose generated data does not change at syncs.
    pub frozen: std::collections::HashSet<String>,
    /// Edits and list order per data key.
    pub orgs: HashMap<String, OrgState>,
    pub global_faults: Vec<FaultSpec>,
    pub webhook: Option<WebhookTarget>,
}

#[derive(Debug, Clone)]
pub struct EndUser {
    pub origin_id: String,
    pub organization_name: String,
    pub email_address: String,
}

#[derive(Debug, Clone)]
pub struct LinkSession {
    pub end_user: EndUser,
    pub integration: Option<String>,
    pub expires_at: OffsetDateTime,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub token: String,
    pub end_user: EndUser,
    pub integration: String,
    /// The tenant of the HR system signed in to (the dialog's "Company domain"), normalized.
    pub tenant: String,
    /// What the generated data is keyed by: the origin id for an origin's first account,
    /// `<origin id>#<tenant>` for an account linked later to another tenant (other people).
    pub data_key: String,
    pub status: LinkStatus,
    pub status_detail: Option<String>,
    pub completed_at: OffsetDateTime,
    /// When each sync finished; the first is the initial sync. Data changes happen at syncs.
    pub syncs: Vec<OffsetDateTime>,
    pub faults: Vec<FaultSpec>,
    /// Sync statuses set through the control API, by `model_id`, until cleared.
    pub forced_status: std::collections::BTreeMap<String, SyncState>,
    /// How often Merge re-issued this account's record ids (a relink with `new_ids`): every Merge
    /// id of its records differs per epoch; remote ids and content stay.
    pub id_epoch: u32,
}

/// A model's sync status as the control API can set it (`SyncStatusStatusEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncState {
    Syncing,
    Done,
    Failed,
    Disabled,
    Paused,
    PartiallySynced,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Syncing => "SYNCING",
            SyncState::Done => "DONE",
            SyncState::Failed => "FAILED",
            SyncState::Disabled => "DISABLED",
            SyncState::Paused => "PAUSED",
            SyncState::PartiallySynced => "PARTIALLY_SYNCED",
        }
    }

    /// `last_sync_result`: a finished sync's outcome; SYNCING, DISABLED and PAUSED keep DONE.
    fn result(self) -> &'static str {
        match self {
            SyncState::Failed | SyncState::PartiallySynced => self.as_str(),
            _ => "DONE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The account's status becomes `RELINK_NEEDED` (per account only; cleared by relinking).
    RelinkNeeded,
    /// Calls with the account token get 401 (per account: until cleared or the account is relinked).
    TokenRevoked,
    /// 429 with `Retry-After`.
    RateLimited,
    /// 500.
    ServerError,
    /// Answers after `delay_ms`.
    Slow,
    /// 200 with a truncated JSON body.
    MalformedJson,
}

/// One injected fault. `count`: how many requests it affects (`None`: until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub kind: FaultKind,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
    #[serde(default = "default_delay")]
    pub delay_ms: u64,
    /// Only requests to this list (`employees`, `employments`, `teams`, `locations`, `groups`,
    /// `sync-status`), or to the public token's exchange (`account-token`).
    #[serde(default)]
    pub stream: Option<String>,
    /// Only this page of a listing, 1-based: the request without a cursor is page 1, the one with
    /// page 1's `next` is page 2, and so on (the page number travels in the cursor).
    #[serde(default)]
    pub page: Option<u32>,
}

/// The lists a fault can name as its `stream`.
pub const STREAMS: &[&str] = &[
    "employees",
    "employments",
    "teams",
    "locations",
    "groups",
    "sync-status",
    "account-token",
];

/// What a fault can match a request by.
#[derive(Debug, Default, Clone)]
pub struct RequestInfo<'a> {
    pub account_token: Option<&'a str>,
    pub stream: Option<&'a str>,
    pub page: Option<u32>,
}

fn default_retry_after() -> u64 {
    1
}

fn default_delay() -> u64 {
    5_000
}

/// What the faults say to do with one API request.
#[derive(Debug, Default)]
pub struct FaultPlan {
    pub delay_ms: u64,
    pub respond: Option<FaultKind>,
    pub retry_after_secs: u64,
    pub malformed: bool,
}

impl FaultPlan {
    /// Applies and consumes the faults that match the request.
    fn add(&mut self, faults: &mut Vec<FaultSpec>, req: &RequestInfo<'_>) {
        let has_account = req.account_token.is_some();
        for f in faults.iter_mut() {
            let targets = f.stream.as_deref().is_none_or(|s| Some(s) == req.stream)
                && f.page.is_none_or(|p| Some(p) == req.page);
            let applies = targets
                && match f.kind {
                    FaultKind::RelinkNeeded => false,
                    FaultKind::TokenRevoked => has_account && self.respond.is_none(),
                    FaultKind::RateLimited | FaultKind::ServerError => self.respond.is_none(),
                    FaultKind::Slow => self.delay_ms == 0,
                    FaultKind::MalformedJson => !self.malformed,
                };
            if !applies {
                continue;
            }
            match f.kind {
                FaultKind::Slow => self.delay_ms = f.delay_ms,
                FaultKind::MalformedJson => self.malformed = true,
                kind => {
                    self.respond = Some(kind);
                    self.retry_after_secs = f.retry_after_secs;
                }
            }
            if let Some(n) = f.count.as_mut() {
                *n = n.saturating_sub(1);
            }
        }
        faults.retain(|f| f.count != Some(0));
    }
}

/// Why completing a link session failed; also the dialog's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("This link is not valid.")]
    UnknownToken,
    #[error("This link has expired. Ask for a new one.")]
    Expired,
    #[error("This link was already used. Ask for a new one.")]
    Used,
    #[error("Choose an HR system supported by this sandbox.")]
    UnknownIntegration,
    #[error("Enter your company domain, for example acme.example.com.")]
    InvalidTenant,
    #[error("The username or password is not correct.")]
    WrongCredentials,
}

/// A finished link: the public token for `onSuccess`, the account, whether it was a relink.
#[derive(Debug, Clone)]
pub struct Completed {
    pub public_token: String,
    pub account: Account,
    /// The session completed for an account that already existed (same origin id, same tenant).
    pub is_relink: bool,
    /// The origin id already had a linked account and the session ended on another one: a new
    /// account for a different tenant, or an older one of that tenant. The id of the account the
    /// dialog offered to update.
    pub replaces: Option<String>,
}

impl Completed {
    /// For Link's `onSuccess` metadata: the public token is for a linked account that existed
    /// before this session but is not the one the session was opened to update. What Merge sets
    /// `isTokenForOtherPreexistingLinkedAccount` to is UNCONFIRMED; this is the sandbox's reading.
    pub fn is_token_for_other_preexisting_linked_account(&self) -> bool {
        self.is_relink && self.replaces.is_some()
    }
}

/// The tenant the dialog suggests for an organization: `<slug>.example.com` from the organization
/// name (the origin id when the name has no letters or digits).
pub fn default_tenant(end_user: &EndUser) -> String {
    let slug = |s: &str| {
        let mut out = String::new();
        for c in s.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_end_matches('-')
            .chars()
            .take(40)
            .collect::<String>()
    };
    let name = slug(&end_user.organization_name);
    let name = if name.is_empty() {
        slug(&end_user.origin_id)
    } else {
        name
    };
    let name = if name.is_empty() {
        "company".to_string()
    } else {
        name
    };
    format!("{}.example.com", name.trim_end_matches('-'))
}

/// A tenant as typed → its normal form (trimmed, lower case, no scheme or path), or `None` when it
/// is not a plausible domain.
pub fn normalize_tenant(raw: &str) -> Option<String> {
    let t = raw.trim().to_lowercase();
    let t = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .unwrap_or(&t);
    let t = t.split('/').next().unwrap_or("").trim_end_matches('.');
    let ok = !t.is_empty()
        && t.len() <= 253
        && t.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    ok.then(|| t.to_string())
}

pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// An instant as Merge writes it: RFC 3339 in UTC with microseconds, always six digits
/// (`2026-12-04T21:00:00.000000Z`), so that times sort as text too (the `time` crate's `Rfc3339`
/// leaves the fraction out when it is zero, and "…00Z" sorts after "…00.5Z").
pub fn rfc3339(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

impl Sandbox {
    pub fn new(config: SandboxConfig, public_url: String) -> Self {
        let inner = Inner {
            webhook: config.webhook.clone(),
            ..Inner::default()
        };
        Sandbox {
            config,
            public_url,
            inner: Mutex::new(inner),
            api_requests: AtomicU64::new(0),
            http: reqwest::Client::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn count_request(&self) {
        self.api_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn now(&self) -> OffsetDateTime {
        Inner::now_with(self.lock().clock_offset)
    }

    pub fn sync_interval(&self) -> Duration {
        Duration::try_from(self.config.sync_interval).unwrap_or(Duration::DAY)
    }

    /// The generated organization behind an account.
    pub fn org(&self, inner: &Inner, account: &Account) -> Org {
        let employees = inner
            .org_sizes
            .get(&account.data_key)
            .or_else(|| inner.org_sizes.get(&account.end_user.origin_id))
            .copied()
            .unwrap_or(self.config.default_employees);
        let frozen = inner.frozen.contains(&account.data_key)
            || inner.frozen.contains(&account.end_user.origin_id);
        let syncs = if frozen {
            account.syncs[..account.syncs.len().min(1)].to_vec()
        } else {
            account.syncs.clone()
        };
        Org::new(&account.data_key, employees, syncs).with_id_epoch(account.id_epoch)
    }

    /// Runs `f` on the organization behind a linked account (by id), with its edits and list
    /// order up to date, at the sandbox clock's now. `None`: no such account.
    pub fn with_org<R>(
        &self,
        account_id: &str,
        f: impl FnOnce(&Org, &mut OrgState, OffsetDateTime) -> R,
    ) -> Option<R> {
        let mut inner = self.lock();
        let now = inner.now();
        let account = inner.accounts.iter().find(|a| a.id == account_id)?;
        let org = self.org(&inner, account);
        let key = account.data_key.clone();
        let state = inner.orgs.entry(key).or_default();
        state.refresh(&org);
        Some(f(&org, state, now))
    }

    /// Like [`Sandbox::with_org`], read only, as a [`View`].
    pub fn with_view<R>(&self, account_id: &str, f: impl FnOnce(&View<'_>) -> R) -> Option<R> {
        self.with_org(account_id, |org, state, now| {
            f(&View {
                org,
                state,
                today: now.date(),
            })
        })
    }

    /// Completes a link session as the dialog (or the control API) does.
    ///
    /// `tenant`: the HR tenant signed in to (`None`: the one the dialog suggests, i.e. the existing
    /// account's on a relink). A link token whose origin id already has a linked account relinks
    /// that account when the tenant is the same. With a different tenant the sandbox links a NEW
    /// account (new id, new account token) and the public token exchanges to it, leaving the old
    /// account as it was. Whether Merge does exactly this is UNCONFIRMED: its Link `onSuccess`
    /// metadata may carry `isTokenForOtherPreexistingLinkedAccount`, and a real HR system may
    /// behave differently per integration.
    pub fn complete_link(
        &self,
        link_token: &str,
        integration: Option<&str>,
        tenant: Option<&str>,
        username: &str,
        password: &str,
    ) -> Result<Completed, LinkError> {
        let mut inner = self.lock();
        let now = Inner::now_with(inner.clock_offset);
        let session = inner.valid_session(link_token, now)?.clone();
        let offered = inner
            .account_for_origin(&session.end_user.origin_id)
            .cloned();
        let tenant = match tenant.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => normalize_tenant(t).ok_or(LinkError::InvalidTenant)?,
            None => offered
                .as_ref()
                .map_or_else(|| default_tenant(&session.end_user), |a| a.tenant.clone()),
        };
        if username.trim().is_empty() || password != DEMO_PASSWORD {
            return Err(LinkError::WrongCredentials);
        }
        let existing = inner
            .accounts
            .iter()
            .position(|a| a.end_user.origin_id == session.end_user.origin_id && a.tenant == tenant);
        let (index, is_relink) = match existing {
            Some(i) => {
                let a = &mut inner.accounts[i];
                a.status = LinkStatus::Complete;
                a.status_detail = None;
                // Signing in again repairs the account's credentials: its relink-needed state and
                // a revoked account token (the sandbox's choice; the token itself stays the same).
                a.faults.retain(|f| {
                    !matches!(f.kind, FaultKind::RelinkNeeded | FaultKind::TokenRevoked)
                });
                (i, true)
            }
            None => {
                // On a relink the HR system is the existing account's: only the tenant differs.
                let slug = offered
                    .as_ref()
                    .map(|a| a.integration.as_str())
                    .or(integration)
                    .or(session.integration.as_deref())
                    .ok_or(LinkError::UnknownIntegration)?;
                let entry = DIRECTORY
                    .iter()
                    .find(|d| d.slug == slug && d.is_hris())
                    .ok_or(LinkError::UnknownIntegration)?;
                let data_key = if offered.is_some() {
                    format!("{}#{tenant}", session.end_user.origin_id)
                } else {
                    session.end_user.origin_id.clone()
                };
                inner.accounts.push(Account {
                    id: uuid::Uuid::new_v4().to_string(),
                    token: random_token(48),
                    end_user: session.end_user.clone(),
                    integration: entry.slug.to_string(),
                    tenant,
                    data_key,
                    status: LinkStatus::Complete,
                    status_detail: None,
                    completed_at: now,
                    syncs: vec![now],
                    faults: Vec::new(),
                    forced_status: Default::default(),
                    id_epoch: 0,
                });
                (inner.accounts.len() - 1, false)
            }
        };
        let replaces = offered
            .map(|a| a.id)
            .filter(|id| *id != inner.accounts[index].id);
        if let Some(s) = inner.link_sessions.get_mut(link_token) {
            s.used = true;
        }
        let account = inner.accounts[index].clone();
        let public_token = random_token(40);
        inner.public_tokens.insert(
            public_token.clone(),
            (account.id.clone(), now + PUBLIC_TOKEN_TTL),
        );
        Ok(Completed {
            public_token,
            account,
            is_relink,
            replaces,
        })
    }

    /// Moves the sandbox clock forward and runs the syncs that fall due. Returns the accounts that synced.
    pub fn advance_clock(&self, by: Duration) -> Vec<Account> {
        let interval = self.sync_interval();
        let mut inner = self.lock();
        inner.clock_offset += by;
        let now = Inner::now_with(inner.clock_offset);
        let mut synced = Vec::new();
        for a in inner
            .accounts
            .iter_mut()
            .filter(|a| a.status == LinkStatus::Complete)
        {
            let before = a.syncs.len();
            // At most 60 scheduled syncs per advance; the last one catches up to now.
            while let Some(last) = a.syncs.last().copied().filter(|l| *l + interval <= now) {
                let next = if a.syncs.len() - before >= 60 {
                    now
                } else {
                    last + interval
                };
                a.syncs.push(next);
            }
            if a.syncs.len() > before {
                synced.push(a.clone());
            }
        }
        synced
    }

    /// A sync right now (force resync). Sync times strictly increase, so `modified_after` works.
    pub fn sync_now(&self, account_id: &str) -> Option<Account> {
        let mut inner = self.lock();
        let now = Inner::now_with(inner.clock_offset);
        let a = inner.accounts.iter_mut().find(|a| a.id == account_id)?;
        let last = a.syncs.last().copied().unwrap_or(now);
        a.syncs.push(now.max(last + Duration::milliseconds(1)));
        Some(a.clone())
    }
}

impl Inner {
    fn now_with(offset: Duration) -> OffsetDateTime {
        let t = OffsetDateTime::now_utc() + offset;
        // Millisecond precision, as Merge's timestamps have.
        t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(t)
    }

    pub fn now(&self) -> OffsetDateTime {
        Self::now_with(self.clock_offset)
    }

    pub fn valid_session(
        &self,
        link_token: &str,
        now: OffsetDateTime,
    ) -> Result<&LinkSession, LinkError> {
        let s = self
            .link_sessions
            .get(link_token)
            .ok_or(LinkError::UnknownToken)?;
        if s.used {
            Err(LinkError::Used)
        } else if s.expires_at <= now {
            Err(LinkError::Expired)
        } else {
            Ok(s)
        }
    }

    /// The account a link session for this origin id updates (a relink): its most recently
    /// linked one when it has several (one per HR tenant).
    pub fn account_for_origin(&self, origin_id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .filter(|a| a.end_user.origin_id == origin_id)
            .max_by_key(|a| a.completed_at)
    }

    pub fn account_by_token(&self, token: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.token == token)
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.id == id)
    }

    /// Consumes the faults that apply to one API request.
    pub fn fault_plan(&mut self, req: &RequestInfo<'_>) -> FaultPlan {
        let mut plan = FaultPlan::default();
        if let Some(a) = req
            .account_token
            .and_then(|t| self.accounts.iter_mut().find(|a| a.token == t))
        {
            plan.add(&mut a.faults, req);
        }
        plan.add(&mut self.global_faults, req);
        plan
    }
}

impl Account {
    pub fn integration_entry(&self) -> &'static super::data::DirectoryEntry {
        DIRECTORY
            .iter()
            .find(|d| d.slug == self.integration)
            .unwrap_or(&DIRECTORY[0])
    }

    /// `AccountDetails`, as `account-details` and webhook payloads show it.
    pub fn details(&self) -> wire::AccountDetails {
        wire::AccountDetails {
            id: Some(self.id.clone()),
            integration: Some(self.integration_entry().name.to_string()),
            integration_slug: Some(self.integration.clone()),
            category: Some("hris".to_string()),
            end_user_origin_id: Some(self.end_user.origin_id.clone()),
            end_user_organization_name: Some(self.end_user.organization_name.clone()),
            end_user_email_address: Some(self.end_user.email_address.clone()),
            status: Some(self.status.as_str().to_string()),
            webhook_listener_url: Some(String::new()),
            is_duplicate: Some(false),
            // Merge's values for account_type are UNCONFIRMED; its webhook example shows "PRODUCTION".
            account_type: Some("PRODUCTION".to_string()),
            completed_at: Some(rfc3339(self.completed_at)),
        }
    }

    pub fn sync_statuses(&self, interval: Duration, status: &str) -> Vec<wire::SyncStatus> {
        let last = self.syncs.last().copied().unwrap_or(self.completed_at);
        let failed = self.status == LinkStatus::RelinkNeeded;
        let result = if failed { "FAILED" } else { "DONE" };
        super::data::MODELS
            .iter()
            .map(|(name, id)| {
                let forced = self.forced_status.get(*id).copied();
                wire::SyncStatus {
                    model_name: name.to_string(),
                    model_id: id.to_string(),
                    last_sync_start: Some(rfc3339(last - Duration::seconds(2))),
                    next_sync_start: Some(rfc3339(last + interval)),
                    last_sync_result: Some(
                        if failed {
                            result
                        } else {
                            forced.map_or(result, SyncState::result)
                        }
                        .to_string(),
                    ),
                    last_sync_finished: Some(rfc3339(last)),
                    status: if failed {
                        "FAILED".to_string()
                    } else {
                        forced.map_or(status.to_string(), |f| f.as_str().to_string())
                    },
                    is_initial_sync: self.syncs.len() <= 1,
                    selective_sync_configurations_usage: None,
                }
            })
            .collect()
    }
}
