//! The HRIS provider layer: what the app needs from a unified HRIS API, in the app's own terms.
//!
//! - [`HrisProvider`]: the domain trait, used as `Arc<dyn HrisProvider>`.
//! - [`ProviderError`]: failures an admin can act on; texts never contain bodies or secrets.
//! - [`merge::MergeClient`]: the implementation over Merge.dev's HTTP API (`wire` holds its JSON shapes).

pub mod merge;
pub mod wire;

use std::{fmt, future::Future, time::Duration};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use merge::{MergeClient, RetryPolicy};

/// What went wrong talking to the HRIS provider, in words an admin can act on
/// ([`ProviderError::message`]; `Display` is English). Texts never contain bodies or secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// 401/403: the API key or the account token was refused.
    TokenRejected,
    /// The linked account's credentials expired or were revoked; the customer must relink.
    RelinkNeeded,
    NotFound,
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// 5xx and connection failures.
    Unavailable,
    /// No answer within the call's budget (or the last try's timeout).
    TimedOut,
    /// A 2xx answer whose body could not be read.
    UnexpectedResponse,
    /// Any other 4xx: the request was refused as invalid.
    InvalidRequest,
}

impl ProviderError {
    /// The failure in the words of `t`.
    pub fn message(&self, t: &crate::i18n::Texts) -> String {
        match self {
            ProviderError::TokenRejected => t.prov_token_rejected.into(),
            ProviderError::RelinkNeeded => t.prov_relink_needed.into(),
            ProviderError::NotFound => t.prov_not_found.into(),
            ProviderError::RateLimited { retry_after } => {
                t.rate_limited(retry_after.map(|d| d.as_secs()))
            }
            ProviderError::Unavailable => t.prov_unavailable.into(),
            ProviderError::TimedOut => t.prov_timed_out.into(),
            ProviderError::UnexpectedResponse => t.prov_unexpected.into(),
            ProviderError::InvalidRequest => t.prov_invalid.into(),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(&crate::i18n::EN))
    }
}

impl std::error::Error for ProviderError {}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// A linked account's permanent access token. Never printed: `Debug` shows a placeholder.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountToken(String);

impl AccountToken {
    pub fn new(token: impl Into<String>) -> Self {
        AccountToken(token.into())
    }

    /// The raw token, to send as `X-Account-Token` or to encrypt for storage.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountToken(<redacted>)")
    }
}

/// String enums that keep values this code does not know yet.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($variant,)+
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_enum!(
    /// A linked account's status (`COMPLETE`, `INCOMPLETE`, `RELINK_NEEDED`, `IDLE`).
    LinkStatus {
        Complete = "COMPLETE",
        Incomplete = "INCOMPLETE",
        RelinkNeeded = "RELINK_NEEDED",
        Idle = "IDLE",
    }
);

open_enum!(
    /// A model's sync state; also used for the last sync's result.
    SyncState {
        Syncing = "SYNCING",
        Done = "DONE",
        Failed = "FAILED",
        Disabled = "DISABLED",
        Paused = "PAUSED",
        PartiallySynced = "PARTIALLY_SYNCED",
    }
);

open_enum!(
    /// An employee's employment status.
    EmploymentStatus {
        Active = "ACTIVE",
        Pending = "PENDING",
        Inactive = "INACTIVE",
    }
);

/// How long a magic link stays valid: Merge's maximum, 7 days.
pub const MAGIC_LINK_EXPIRY_MINS: u32 = 10_080;

/// Asks for a Link session for one customer. Reusing an `end_user_origin_id` that already has a
/// linked account opens Merge's relink/update screen for that account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTokenRequest {
    pub end_user_origin_id: String,
    pub end_user_organization_name: String,
    pub end_user_email_address: String,
    /// Slug of a preselected HR system, e.g. `personio`.
    pub integration: Option<String>,
    /// Also create a magic link URL, valid for [`MAGIC_LINK_EXPIRY_MINS`].
    pub magic_link: bool,
    /// The language of Link's screens (`en`, `de`); `None`: Merge's default.
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTokenResult {
    pub link_token: String,
    pub integration_name: Option<String>,
    pub magic_link_url: Option<String>,
}

/// The result of exchanging Link's public token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountTokenExchange {
    pub account_token: AccountToken,
    pub linked_account_id: String,
    pub integration: Integration,
}

/// An HR system in Merge's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub name: String,
    pub slug: Option<String>,
    pub categories: Vec<String>,
    pub image: Option<String>,
    pub square_image: Option<String>,
    pub color: Option<String>,
}

/// What `account-details` says about the account behind a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetails {
    pub id: Option<String>,
    pub integration_name: Option<String>,
    pub integration_slug: Option<String>,
    pub end_user_origin_id: Option<String>,
    pub end_user_organization_name: Option<String>,
    pub end_user_email_address: Option<String>,
    pub status: LinkStatus,
    pub account_type: Option<String>,
    pub completed_at: Option<String>,
}

/// One linked account as listed with the API key alone (never carries the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub id: String,
    pub status: LinkStatus,
    pub status_detail: Option<String>,
    pub end_user_origin_id: Option<String>,
    pub end_user_organization_name: String,
    pub end_user_email_address: String,
    pub integration: Option<Integration>,
    pub account_type: String,
    pub completed_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccountFilter {
    pub end_user_origin_id: Option<String>,
    pub status: Option<LinkStatus>,
    pub id: Option<String>,
    /// Merge lists test accounts only when asked, and then only them.
    pub test_accounts: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub model_name: String,
    pub model_id: String,
    pub status: SyncState,
    pub last_sync_result: Option<SyncState>,
    pub last_sync_start: Option<String>,
    pub last_sync_finished: Option<String>,
    pub next_sync_start: Option<String>,
    pub is_initial_sync: bool,
}

/// Which page of a common-model list to fetch, and how to filter it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// The cursor from the previous page's [`Page::next_cursor`]; `None` for the first page.
    pub cursor: Option<String>,
    /// At most 100 (Merge's limit); `None` for the provider's default.
    pub page_size: Option<u32>,
    /// Only records the provider synced after this instant.
    pub modified_after: Option<OffsetDateTime>,
    /// Also return records deleted in the HR system (`remote_was_deleted`).
    pub include_deleted_data: bool,
}

impl PageQuery {
    pub fn with_cursor(&self, cursor: Option<String>) -> Self {
        PageQuery {
            cursor,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub results: Vec<T>,
    /// Pass as [`PageQuery::cursor`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Follows cursors until the last page, collecting every result. The one paginator for callers:
/// `collect_pages(&query, |q| provider.employees(&token, q)).await`.
pub async fn collect_pages<T, F, Fut>(query: &PageQuery, mut fetch: F) -> ProviderResult<Vec<T>>
where
    F: FnMut(PageQuery) -> Fut,
    Fut: Future<Output = ProviderResult<Page<T>>>,
{
    let mut all = Vec::new();
    let mut next = query.clone();
    for _ in 0..MAX_PAGES {
        let page = fetch(next.clone()).await?;
        all.extend(page.results);
        match page.next_cursor {
            Some(c) if Some(&c) != next.cursor.as_ref() => next.cursor = Some(c),
            Some(_) => {
                tracing::warn!("provider returned the same cursor twice; stopping");
                return Err(ProviderError::UnexpectedResponse);
            }
            None => return Ok(all),
        }
    }
    tracing::warn!(
        pages = MAX_PAGES,
        "provider pagination did not end; stopping"
    );
    Err(ProviderError::UnexpectedResponse)
}

/// A bound on pages followed in one go (100,000 records at 100 a page, times ten).
pub const MAX_PAGES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    pub id: String,
    pub remote_id: Option<String>,
    pub employee_number: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub display_full_name: Option<String>,
    pub work_email: Option<String>,
    pub manager_id: Option<String>,
    pub team_id: Option<String>,
    pub work_location_id: Option<String>,
    pub group_ids: Vec<String>,
    pub employment_ids: Vec<String>,
    pub employment_status: Option<EmploymentStatus>,
    pub start_date: Option<String>,
    pub termination_date: Option<String>,
    pub modified_at: Option<String>,
    pub remote_was_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employment {
    pub id: String,
    pub remote_id: Option<String>,
    pub employee_id: Option<String>,
    pub job_title: Option<String>,
    pub pay_rate: Option<f64>,
    pub pay_period: Option<String>,
    pub pay_currency: Option<String>,
    pub employment_type: Option<String>,
    pub effective_date: Option<String>,
    pub modified_at: Option<String>,
    pub remote_was_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub parent_team_id: Option<String>,
    pub modified_at: Option<String>,
    pub remote_was_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub location_type: Option<String>,
    pub modified_at: Option<String>,
    pub remote_was_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub group_type: Option<String>,
    pub parent_group_id: Option<String>,
    pub is_commonly_used_as_team: Option<bool>,
    pub modified_at: Option<String>,
    pub remote_was_deleted: bool,
}

/// The HRIS provider, as the app uses it. Calls about one linked account take its token.
#[async_trait::async_trait]
pub trait HrisProvider: Send + Sync {
    /// A single-use token to open Link (and, if asked, a 7-day magic link URL).
    async fn create_link_token(
        &self,
        request: &LinkTokenRequest,
    ) -> ProviderResult<LinkTokenResult>;
    /// Swaps Link's public token for the permanent account token.
    async fn exchange_public_token(
        &self,
        public_token: &str,
    ) -> ProviderResult<AccountTokenExchange>;
    async fn account_details(&self, token: &AccountToken) -> ProviderResult<AccountDetails>;
    /// Every linked account matching the filter (all pages).
    async fn linked_accounts(
        &self,
        filter: &LinkedAccountFilter,
    ) -> ProviderResult<Vec<LinkedAccount>>;
    async fn delete_account(&self, token: &AccountToken) -> ProviderResult<()>;
    /// The HR systems customers can pick from (HRIS category only).
    async fn integrations(&self) -> ProviderResult<Vec<Integration>>;
    async fn sync_status(&self, token: &AccountToken) -> ProviderResult<Vec<SyncStatus>>;
    /// Asks Merge to sync the account now (costs a sync credit). No product code calls it yet: it
    /// is kept for the employee sync's "Sync now" on a stale account (issue: employee sync).
    async fn force_resync(&self, token: &AccountToken) -> ProviderResult<Vec<SyncStatus>>;
    async fn employees(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Employee>>;
    async fn employments(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Employment>>;
    async fn teams(&self, token: &AccountToken, query: PageQuery) -> ProviderResult<Page<Team>>;
    async fn locations(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Location>>;
    async fn groups(&self, token: &AccountToken, query: PageQuery) -> ProviderResult<Page<Group>>;
}
