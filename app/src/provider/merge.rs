//! [`HrisProvider`] over Merge.dev's HTTP API (reqwest).
//!
//! Every attempt has a timeout and every call a budget ([`RetryPolicy`]: interactive by default,
//! [`RetryPolicy::background`] for work nobody waits on). Only GETs are retried (on 429, honouring
//! `Retry-After`, and on 5xx, timeouts, connection failures and cut-off bodies), with exponential
//! backoff and jitter (`backon`), a bounded number of times and never past the budget.
//! Raw error bodies are logged at debug level; the API key and account tokens never are.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::{
    header::{HeaderValue, RETRY_AFTER},
    Method, StatusCode, Url,
};
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;

use crate::telemetry::{self, outcome, ProviderRequest};

use super::{
    wire, AccountDetails, AccountToken, AccountTokenExchange, Employee, Employment, Group,
    HrisProvider, Integration, LinkTokenRequest, LinkTokenResult, LinkedAccount,
    LinkedAccountFilter, Location, Page, PageQuery, ProviderError, ProviderResult, SyncStatus,
    Team,
};

/// Merge's US API base.
pub const BASE_URL_US: &str = "https://api.merge.dev/api";
pub const BASE_URL_EU: &str = "https://api-eu.merge.dev/api";
pub const BASE_URL_APAC: &str = "https://api-ap.merge.dev/api";
pub const BASE_URL_SANDBOX: &str = "https://api-sandbox.merge.dev/api";

/// Timeouts, retries and the budget of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Per attempt, from sending the request to the end of the body.
    pub timeout: Duration,
    /// Attempts for idempotent calls, the first one included. POSTs are tried once.
    pub max_attempts: u32,
    /// The first backoff; it doubles each retry, with jitter, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails with `RateLimited`.
    pub max_retry_after: Duration,
    /// The whole call: every attempt and every wait. Past it the call fails with `TimedOut`, and
    /// no retry starts that could not finish its wait within it.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::interactive`].
    fn default() -> Self {
        Self::interactive()
    }
}

impl RetryPolicy {
    /// For a person waiting on a page: 10 s per try, 20 s for the whole call.
    pub fn interactive() -> Self {
        RetryPolicy {
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
            budget: Duration::from_secs(20),
        }
    }

    /// For background work nobody waits on (syncs, sweeps): longer tries, more of them, and
    /// minutes for the whole call.
    pub fn background() -> Self {
        RetryPolicy {
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            budget: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter (`backon`) for at most `retries` retries: the wait after
    /// attempt `n` (1-based) is random between half and all of `base_delay * 2^(n-1)`, capped at
    /// `max_delay`. (backon adds a jitter of up to the delay itself, hence the halves.)
    fn backoff(&self, retries: u32) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.base_delay / 2)
            .with_max_delay(self.max_delay / 2)
            .with_factor(2.0)
            .with_max_times(retries as usize)
            .with_jitter()
    }
}

/// A client for one Merge API base (US, EU, APAC, Merge's sandbox, or this project's sandbox).
#[derive(Clone)]
pub struct MergeClient {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    policy: RetryPolicy,
}

impl std::fmt::Debug for MergeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeClient")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("policy", &self.policy)
            .finish()
    }
}

/// One request, before it is sent (possibly several times).
#[derive(Clone)]
struct Call<'a> {
    method: Method,
    /// Path below the base URL, e.g. `/hris/v1/employees`.
    path: String,
    /// The path's template, the metrics' label: a path can carry a secret (the public token),
    /// its template never does.
    endpoint: &'static str,
    /// A short name for logs; paths can carry secrets (the public token).
    op: &'static str,
    account_token: Option<&'a AccountToken>,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    /// The answer carries a secret: never log its body.
    secret_response: bool,
}

impl<'a> Call<'a> {
    /// A GET of `endpoint`, a fixed path or a template whose path is set with [`Call::at`].
    fn get(op: &'static str, endpoint: &'static str) -> Self {
        Call {
            method: Method::GET,
            path: endpoint.to_string(),
            endpoint,
            op,
            account_token: None,
            query: Vec::new(),
            body: None,
            secret_response: false,
        }
    }

    fn post(op: &'static str, endpoint: &'static str) -> Self {
        Call {
            method: Method::POST,
            ..Call::get(op, endpoint)
        }
    }

    /// The real path of a templated endpoint.
    fn at(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    fn method_label(&self) -> &'static str {
        if self.method == Method::POST {
            "POST"
        } else {
            "GET"
        }
    }

    fn account(mut self, token: &'a AccountToken) -> Self {
        self.account_token = Some(token);
        self
    }

    fn query(mut self, key: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.query.push((key, v.to_string()));
        }
        self
    }
}

/// One attempt's failure, and whether trying again may help.
struct Failure {
    error: ProviderError,
    retry: bool,
    wait: Option<Duration>,
}

impl MergeClient {
    /// `base_url` like [`BASE_URL_US`] or `http://127.0.0.1:4010/api` (a trailing `/` is ignored).
    /// Calls have the [interactive](RetryPolicy::interactive) budget.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> ProviderResult<Self> {
        Self::with_policy(base_url, api_key, RetryPolicy::interactive())
    }

    /// The same client (connections shared) with another policy, e.g.
    /// `client.with_budget(RetryPolicy::background())` for background work.
    pub fn with_budget(&self, policy: RetryPolicy) -> Self {
        MergeClient {
            policy,
            ..self.clone()
        }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn with_policy(
        base_url: impl Into<String>,
        api_key: impl Into<String>,
        policy: RetryPolicy,
    ) -> ProviderResult<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("hris-connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "cannot build the HTTP client");
                ProviderError::Unavailable
            })?;
        Ok(MergeClient {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.into(),
            policy,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends the call, retrying idempotent ones, and parses a 2xx body as `T`. A body that ends
    /// before its JSON does (a cut-off answer) is tried again like a failed request; one that is
    /// complete but not what Merge sends is not (it would not change).
    async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> ProviderResult<T> {
        let call = &call;
        self.send_with(call, |bytes| {
            serde_json::from_slice(&bytes).map_err(|e| {
                if call.secret_response {
                    tracing::debug!(op = call.op, error = %e, "unreadable answer (body withheld: it carries a secret)");
                } else {
                    tracing::debug!(op = call.op, error = %e, body = %body_excerpt(&bytes), "unreadable answer");
                }
                Failure {
                    error: ProviderError::UnexpectedResponse,
                    retry: e.is_eof(),
                    wait: None,
                }
            })
        })
        .await
    }

    /// Sends the call, retrying idempotent ones; the 2xx body as it came.
    async fn send_raw(&self, call: &Call<'_>) -> ProviderResult<Vec<u8>> {
        self.send_with(call, Ok).await
    }

    async fn send_with<T>(
        &self,
        call: &Call<'_>,
        read: impl Fn(Vec<u8>) -> Result<T, Failure>,
    ) -> ProviderResult<T> {
        // Credentials that cannot be sent as a header (CR, LF, other control characters) are
        // refused here: no request, no retry, and not mistaken for an unreachable provider.
        let sendable = |v: &str| HeaderValue::from_str(v).is_ok();
        if !sendable(&self.api_key) || call.account_token.is_some_and(|t| !sendable(t.expose())) {
            tracing::warn!(
                op = call.op,
                "credentials cannot be sent: not a valid header value"
            );
            return Err(ProviderError::TokenRejected);
        }
        let attempts = if call.method == Method::GET {
            self.policy.max_attempts.max(1)
        } else {
            1
        };
        let deadline = Instant::now() + self.policy.budget;
        let mut attempt = 1;
        let read = &read;
        let tries = (|| async move { read(self.attempt(call).await?) })
            .retry(self.policy.backoff(attempts - 1))
            .sleep(tokio::time::sleep)
            .when(|f: &Failure| f.retry)
            .adjust(|f: &Failure, backoff| {
                // A `Retry-After` is waited for in full, however short the backoff; a wait that
                // would end past the budget is not started.
                let wait = backoff?.max(f.wait.unwrap_or_default());
                (Instant::now() + wait < deadline).then_some(wait)
            })
            .notify(|f: &Failure, wait| {
                telemetry::provider_retry(call.method_label(), call.endpoint);
                tracing::info!(op = call.op, attempt, wait_ms = wait.as_millis() as u64, error = %f.error, "retrying");
                attempt += 1;
            });
        match tokio::time::timeout_at(deadline.into(), tries).await {
            Ok(result) => result.map_err(|f| f.error),
            Err(_) => {
                tracing::warn!(
                    op = call.op,
                    budget_ms = self.policy.budget.as_millis() as u64,
                    "provider call over budget"
                );
                Err(ProviderError::TimedOut)
            }
        }
    }

    async fn attempt(&self, call: &Call<'_>) -> Result<Vec<u8>, Failure> {
        // Recorded when this attempt ends, or is abandoned (a timeout).
        let mut measured = ProviderRequest::start(call.method_label(), call.endpoint);
        let failed = |e: &reqwest::Error| {
            if e.is_timeout() {
                outcome::TIMEOUT
            } else {
                outcome::NETWORK
            }
        };
        let url = format!("{}{}", self.base_url, call.path);
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.policy.timeout)
            .bearer_auth(&self.api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .query(&call.query);
        if let Some(token) = call.account_token {
            req = req.header("X-Account-Token", token.expose());
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        let unavailable = |e: reqwest::Error| {
            let timed_out = e.is_timeout();
            tracing::warn!(op = call.op, timeout = timed_out, connect = e.is_connect(), error = %e.without_url(), "request failed");
            Failure {
                error: if timed_out {
                    ProviderError::TimedOut
                } else {
                    ProviderError::Unavailable
                },
                retry: true,
                wait: None,
            }
        };
        let resp = req.send().await.map_err(|e| {
            measured.set_outcome(failed(&e));
            if e.is_builder() {
                tracing::warn!(op = call.op, error = %e.without_url(), "request cannot be built");
                Failure {
                    error: ProviderError::InvalidRequest,
                    retry: false,
                    wait: None,
                }
            } else {
                unavailable(e)
            }
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| {
                measured.set_outcome(failed(&e));
                unavailable(e)
            })?
            .to_vec();
        measured.set_outcome(ProviderRequest::outcome_of_status(status.as_u16()));
        if status.is_success() {
            return Ok(bytes);
        }
        tracing::debug!(op = call.op, status = status.as_u16(), body = %body_excerpt(&bytes), "error answer");
        Err(self.classify(call, status, retry_after))
    }

    fn classify(
        &self,
        call: &Call<'_>,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> Failure {
        let fail = |error| Failure {
            error,
            retry: false,
            wait: None,
        };
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                tracing::warn!(
                    op = call.op,
                    status = status.as_u16(),
                    "credentials refused"
                );
                fail(ProviderError::TokenRejected)
            }
            StatusCode::NOT_FOUND => fail(ProviderError::NotFound),
            StatusCode::TOO_MANY_REQUESTS => {
                tracing::warn!(
                    op = call.op,
                    retry_after_s = retry_after.map(|d| d.as_secs()),
                    "rate limited"
                );
                let waitable = retry_after.is_none_or(|d| d <= self.policy.max_retry_after);
                Failure {
                    error: ProviderError::RateLimited { retry_after },
                    retry: waitable,
                    wait: retry_after,
                }
            }
            // 408 is a (passthrough) timeout: as retryable as a 5xx.
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                tracing::warn!(op = call.op, status = s.as_u16(), "provider error");
                Failure {
                    error: ProviderError::Unavailable,
                    retry: true,
                    wait: None,
                }
            }
            s => {
                tracing::warn!(op = call.op, status = s.as_u16(), "request refused");
                fail(ProviderError::InvalidRequest)
            }
        }
    }

    /// One page of a common-model list, mapped to domain records.
    async fn common_page<W, D>(
        &self,
        op: &'static str,
        path: &'static str,
        token: &AccountToken,
        q: &PageQuery,
    ) -> ProviderResult<Page<D>>
    where
        W: DeserializeOwned,
        D: TryFrom<W, Error = wire::MissingId>,
    {
        let modified_after = q
            .modified_after
            .map(|t| t.format(&Rfc3339))
            .transpose()
            .map_err(|e| {
                tracing::error!(error = %e, "cannot format modified_after");
                ProviderError::InvalidRequest
            })?;
        let call = Call::get(op, path)
            .account(token)
            .query("cursor", q.cursor.as_deref())
            .query("page_size", q.page_size.map(|n| n.min(100)))
            .query("modified_after", modified_after)
            .query(
                "include_deleted_data",
                q.include_deleted_data.then_some("true"),
            );
        let page: wire::Paginated<W> = self.send(call).await?;
        let results = page
            .results
            .into_iter()
            .map(D::try_from)
            .collect::<Result<Vec<D>, _>>()
            .map_err(|_| {
                tracing::debug!(op, "a record without an id");
                ProviderError::UnexpectedResponse
            })?;
        Ok(Page {
            results,
            next_cursor: page.next.as_deref().and_then(cursor_of_next),
        })
    }

    /// Every page of a small list (linked accounts, sync status, the directory) mapped to domain values.
    async fn all_pages<W, D>(&self, first: Call<'_>) -> ProviderResult<Vec<D>>
    where
        W: DeserializeOwned,
        D: From<W>,
    {
        let first = &first;
        super::collect_pages(&PageQuery::default(), |q| async move {
            let page: wire::Paginated<W> =
                self.send(first.clone().query("cursor", q.cursor)).await?;
            Ok(Page {
                results: page.results.into_iter().map(D::from).collect(),
                next_cursor: page.next.as_deref().and_then(cursor_of_next),
            })
        })
        .await
    }
}

/// Merge's `next` is opaque: a full URL (take its `cursor` parameter) or the bare cursor.
/// Which one Merge sends is UNCONFIRMED (its docs show both), so both are accepted.
pub fn cursor_of_next(next: &str) -> Option<String> {
    let next = next.trim();
    if next.is_empty() {
        return None;
    }
    match Url::parse(next) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned()),
        _ => Some(next.to_string()),
    }
}

/// `Retry-After` as seconds (Merge's form is UNCONFIRMED; an HTTP date is not honoured, backoff applies).
fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn body_excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(2000).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

#[async_trait::async_trait]
impl HrisProvider for MergeClient {
    async fn create_link_token(
        &self,
        request: &LinkTokenRequest,
    ) -> ProviderResult<LinkTokenResult> {
        let body = serde_json::to_value(wire::EndUserDetailsRequest::from(request))
            .map_err(|_| ProviderError::InvalidRequest)?;
        let call = Call {
            body: Some(body),
            ..Call::post("link-token", "/hris/v1/link-token")
        };
        self.send::<wire::LinkToken>(call).await.map(Into::into)
    }

    async fn exchange_public_token(
        &self,
        public_token: &str,
    ) -> ProviderResult<AccountTokenExchange> {
        if public_token.is_empty()
            || !public_token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        {
            return Err(ProviderError::InvalidRequest);
        }
        let call = Call {
            secret_response: true,
            ..Call::get("account-token", "/hris/v1/account-token/{public_token}")
                .at(format!("/hris/v1/account-token/{public_token}"))
        };
        self.send::<wire::AccountToken>(call).await.map(Into::into)
    }

    async fn account_details(&self, token: &AccountToken) -> ProviderResult<AccountDetails> {
        let call = Call::get("account-details", "/hris/v1/account-details").account(token);
        self.send::<wire::AccountDetails>(call)
            .await
            .map(Into::into)
    }

    async fn linked_accounts(
        &self,
        filter: &LinkedAccountFilter,
    ) -> ProviderResult<Vec<LinkedAccount>> {
        let call = Call::get("linked-accounts", "/hris/v1/linked-accounts")
            .query("category", Some("hris"))
            .query("end_user_origin_id", filter.end_user_origin_id.as_deref())
            .query(
                "status",
                filter.status.as_ref().map(|s| s.as_str().to_string()),
            )
            .query("id", filter.id.as_deref())
            .query("is_test_account", filter.test_accounts.then_some("true"));
        self.all_pages::<wire::AccountDetailsAndActions, _>(call)
            .await
    }

    async fn delete_account(&self, token: &AccountToken) -> ProviderResult<()> {
        // 200 with an empty body: nothing to parse.
        self.send_raw(&Call::post("delete-account", "/hris/v1/delete-account").account(token))
            .await
            .map(drop)
    }

    async fn integrations(&self) -> ProviderResult<Vec<Integration>> {
        // The directory of all integrations is `GET {base}/integrations`, a bare array per Merge's docs;
        // a paginated answer (the `/organizations/integrations` form) is followed too.
        let list: wire::IntegrationList = self
            .send(Call::get("integrations", "/integrations"))
            .await?;
        let all = match list {
            wire::IntegrationList::Array(items) => items,
            wire::IntegrationList::Page(page) => {
                let mut items = page.results;
                if let Some(cursor) = page.next.as_deref().and_then(cursor_of_next) {
                    let rest =
                        Call::get("integrations", "/integrations").query("cursor", Some(cursor));
                    items.extend(
                        self.all_pages::<wire::AccountIntegration, wire::AccountIntegration>(rest)
                            .await?,
                    );
                }
                items
            }
        };
        Ok(all
            .into_iter()
            .map(Integration::from)
            .filter(|i| i.categories.iter().any(|c| c == "hris"))
            .collect())
    }

    async fn sync_status(&self, token: &AccountToken) -> ProviderResult<Vec<SyncStatus>> {
        self.all_pages::<wire::SyncStatus, _>(
            Call::get("sync-status", "/hris/v1/sync-status").account(token),
        )
        .await
    }

    async fn force_resync(&self, token: &AccountToken) -> ProviderResult<Vec<SyncStatus>> {
        let call = Call::post("resync", "/hris/v1/sync-status/resync").account(token);
        let statuses: Vec<wire::SyncStatus> = self.send(call).await?;
        Ok(statuses.into_iter().map(Into::into).collect())
    }

    async fn employees(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Employee>> {
        self.common_page::<wire::Employee, _>("employees", "/hris/v1/employees", token, &query)
            .await
    }

    async fn employments(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Employment>> {
        self.common_page::<wire::Employment, _>(
            "employments",
            "/hris/v1/employments",
            token,
            &query,
        )
        .await
    }

    async fn teams(&self, token: &AccountToken, query: PageQuery) -> ProviderResult<Page<Team>> {
        self.common_page::<wire::Team, _>("teams", "/hris/v1/teams", token, &query)
            .await
    }

    async fn locations(
        &self,
        token: &AccountToken,
        query: PageQuery,
    ) -> ProviderResult<Page<Location>> {
        self.common_page::<wire::Location, _>("locations", "/hris/v1/locations", token, &query)
            .await
    }

    async fn groups(&self, token: &AccountToken, query: PageQuery) -> ProviderResult<Page<Group>> {
        self.common_page::<wire::Group, _>("groups", "/hris/v1/groups", token, &query)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;

    #[test]
    fn next_is_opaque_url_or_cursor() {
        assert_eq!(cursor_of_next("cD0yMDIx"), Some("cD0yMDIx".into()));
        assert_eq!(
            cursor_of_next(
                "https://api.merge.dev/api/hris/v1/employees?cursor=cD0y%3D&page_size=100"
            ),
            Some("cD0y=".into())
        );
        assert_eq!(cursor_of_next(""), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let waits: Vec<Duration> = p.backoff(5).build().collect();
            assert_eq!(waits.len(), 5, "one wait per retry, no more");
            assert!(
                waits[0] >= Duration::from_millis(50) && waits[0] <= Duration::from_millis(100)
            );
            assert!(
                waits[1] >= Duration::from_millis(100) && waits[1] <= Duration::from_millis(200)
            );
            assert!(waits.iter().all(|w| *w <= Duration::from_millis(300)));
        }
        assert_eq!(p.backoff(0).build().count(), 0);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
