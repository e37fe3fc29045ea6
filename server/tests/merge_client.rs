//! The real `MergeClient` against the sandbox over HTTP on 127.0.0.1, a canned-response server for
//! fault handling, and an independent raw client that checks the sandbox speaks Merge's API.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use app::provider::{
    collect_pages, AccountToken, AccountTokenExchange, HrisProvider, LinkStatus, LinkTokenRequest,
    LinkedAccountFilter, MergeClient, PageQuery, ProviderError, RetryPolicy, SyncState,
};
use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use merge_sandbox::{self as sandbox, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use tokio::net::TcpListener;

const KEY: &str = "test-api-key";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        timeout: Duration::from_secs(3),
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        budget: Duration::from_secs(20),
    }
}

struct Env {
    sandbox: SandboxHandle,
    client: MergeClient,
    http: reqwest::Client,
}

impl Env {
    async fn linked_account_count(&self) -> usize {
        self.client
            .linked_accounts(&LinkedAccountFilter::default())
            .await
            .unwrap()
            .len()
    }

    async fn start() -> Env {
        Env::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut SandboxConfig)) -> Env {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = SandboxConfig {
            api_key: KEY.into(),
            default_employees: 40,
            ..SandboxConfig::default()
        };
        adjust(&mut config);
        let sandbox = sandbox::spawn(config, listener).await.unwrap();
        let client = MergeClient::with_policy(sandbox.api_base_url(), KEY, fast_policy()).unwrap();
        Env {
            sandbox,
            client,
            http: test_http(),
        }
    }

    /// Serves `receiver` (a router with `POST /hooks`) and makes it the sandbox's webhook target,
    /// signing with `whsec`.
    async fn send_webhooks_to(&self, receiver: Router) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
        let (status, _) = self
            .control(
                reqwest::Method::PUT,
                "/sandbox/webhook",
                json!({"url": hook_url, "signing_key": "whsec"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    fn client_with(&self, policy: RetryPolicy) -> MergeClient {
        MergeClient::with_policy(self.sandbox.api_base_url(), KEY, policy).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.public_url)
    }

    /// A control-API call; returns status and JSON body (`Null` when empty).
    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn fault(&self, spec: Value) {
        let (status, body) = self
            .control(reqwest::Method::POST, "/sandbox/faults", spec)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn requests(&self) -> u64 {
        self.control(reqwest::Method::GET, "/sandbox/requests", Value::Null)
            .await
            .1["api_requests"]
            .as_u64()
            .unwrap()
    }

    async fn set_size(&self, origin: &str, employees: usize) {
        let (status, _) = self
            .control(
                reqwest::Method::PUT,
                &format!("/sandbox/organizations/{origin}"),
                json!({"employees": employees}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    async fn complete(&self, link_token: &str, integration: Option<&str>) -> Value {
        let (status, body) = self
            .control(
                reqwest::Method::POST,
                &format!("/sandbox/link-tokens/{link_token}/complete"),
                json!({ "integration": integration }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Completes a link session through the control API with any body.
    async fn complete_with(&self, link_token: &str, body: Value) -> (StatusCode, Value) {
        self.control(
            reqwest::Method::POST,
            &format!("/sandbox/link-tokens/{link_token}/complete"),
            body,
        )
        .await
    }

    /// The control API's view of the linked accounts.
    async fn accounts(&self) -> Vec<Value> {
        let (_, body) = self
            .control(reqwest::Method::GET, "/sandbox/accounts", Value::Null)
            .await;
        body["results"].as_array().unwrap().clone()
    }

    async fn page(&self, path_and_query: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(self.url(path_and_query))
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (status, r.text().await.unwrap())
    }

    /// Posts the dialog's sign-in form.
    async fn post_dialog(&self, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self
            .http
            .post(self.url("/sandbox/link/dialog"))
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (status, r.text().await.unwrap())
    }

    /// Link token → Link completes → public token exchanged.
    async fn link(&self, origin: &str, integration: &str) -> AccountTokenExchange {
        let lt = self
            .client
            .create_link_token(&request(origin, Some(integration), false))
            .await
            .unwrap();
        let done = self.complete(&lt.link_token, None).await;
        self.client
            .exchange_public_token(done["public_token"].as_str().unwrap())
            .await
            .unwrap()
    }
}

fn request(origin: &str, integration: Option<&str>, magic_link: bool) -> LinkTokenRequest {
    LinkTokenRequest {
        end_user_origin_id: origin.into(),
        end_user_organization_name: format!("{origin} Inc."),
        end_user_email_address: "admin@example.com".into(),
        integration: integration.map(Into::into),
        magic_link,
        language: None,
    }
}

fn page100() -> PageQuery {
    PageQuery {
        page_size: Some(100),
        ..PageQuery::default()
    }
}

#[tokio::test]
async fn link_exchange_details_list_sync_and_delete() {
    let env = Env::start().await;
    let lt = env
        .client
        .create_link_token(&request("org-a", Some("personio"), false))
        .await
        .unwrap();
    assert_eq!(lt.integration_name.as_deref(), Some("Personio"));
    assert!(lt.magic_link_url.is_none());

    let done = env.complete(&lt.link_token, None).await;
    let ex = env
        .client
        .exchange_public_token(done["public_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(ex.integration.slug.as_deref(), Some("personio"));
    assert!(
        !format!("{ex:?}").contains(ex.account_token.expose()),
        "Debug must not print the token"
    );
    // A link token is single use.
    let (status, _) = env
        .control(
            reqwest::Method::POST,
            &format!("/sandbox/link-tokens/{}/complete", lt.link_token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::GONE);

    let details = env.client.account_details(&ex.account_token).await.unwrap();
    assert_eq!(details.id.as_deref(), Some(ex.linked_account_id.as_str()));
    assert_eq!(details.status, LinkStatus::Complete);
    assert_eq!(details.integration_name.as_deref(), Some("Personio"));
    assert_eq!(details.end_user_origin_id.as_deref(), Some("org-a"));

    let other = env.link("org-b", "bamboohr").await;
    let all = env
        .client
        .linked_accounts(&LinkedAccountFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let by_origin = LinkedAccountFilter {
        end_user_origin_id: Some("org-b".into()),
        ..Default::default()
    };
    let found = env.client.linked_accounts(&by_origin).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, other.linked_account_id);
    assert_eq!(
        found[0].integration.as_ref().unwrap().slug.as_deref(),
        Some("bamboohr")
    );
    let by_id = LinkedAccountFilter {
        id: Some(ex.linked_account_id.clone()),
        ..Default::default()
    };
    assert_eq!(
        env.client.linked_accounts(&by_id).await.unwrap()[0]
            .end_user_origin_id
            .as_deref(),
        Some("org-a")
    );
    let relink_needed = LinkedAccountFilter {
        status: Some(LinkStatus::RelinkNeeded),
        ..Default::default()
    };
    assert!(env
        .client
        .linked_accounts(&relink_needed)
        .await
        .unwrap()
        .is_empty());

    let directory = env.client.integrations().await.unwrap();
    assert!(directory.len() >= 10);
    assert!(
        directory
            .iter()
            .all(|i| i.categories.iter().any(|c| c == "hris")),
        "client-side hris filter"
    );
    let personio = directory
        .iter()
        .find(|i| i.slug.as_deref() == Some("personio"))
        .unwrap();
    assert_eq!(personio.name, "Personio");
    assert!(personio.color.as_deref().unwrap().starts_with('#'));
    let logo = env
        .http
        .get(personio.square_image.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");

    let statuses = env.client.sync_status(&ex.account_token).await.unwrap();
    assert_eq!(statuses.len(), 5);
    assert!(statuses
        .iter()
        .all(|s| s.status == SyncState::Done && s.is_initial_sync));
    let resynced = env.client.force_resync(&ex.account_token).await.unwrap();
    assert!(resynced.iter().any(|s| s.model_id == "hris.Employee"));
    assert!(env
        .client
        .sync_status(&ex.account_token)
        .await
        .unwrap()
        .iter()
        .all(|s| !s.is_initial_sync));

    env.client.delete_account(&ex.account_token).await.unwrap();
    assert_eq!(
        env.client.account_details(&ex.account_token).await,
        Err(ProviderError::TokenRejected)
    );
    assert_eq!(env.linked_account_count().await, 1);
}

#[tokio::test]
async fn pages_a_thousand_employees_and_every_model() {
    let env = Env::start().await;
    env.set_size("big", 1_000).await;
    let ex = env.link("big", "workday").await;
    let t = &ex.account_token;
    let employees = collect_pages(&page100(), |q| env.client.employees(t, q))
        .await
        .unwrap();
    let ids: HashSet<_> = employees.iter().map(|e| e.id.clone()).collect();
    // Employees deleted in the HR system are left out unless asked for; none yet before any sync.
    assert_eq!(employees.len(), 1_000);
    assert_eq!(ids.len(), 1_000);
    assert!(employees
        .iter()
        .any(|e| e.employment_status == Some(app::provider::EmploymentStatus::Inactive)));
    assert!(employees.iter().any(|e| e.termination_date.is_some()));
    let with_manager = employees.iter().filter(|e| e.manager_id.is_some()).count();
    assert_eq!(with_manager, 999, "everyone but the CEO has a manager");
    assert!(employees
        .iter()
        .all(|e| ids.contains(e.manager_id.as_deref().unwrap_or(&e.id))));
    assert!(employees
        .iter()
        .all(|e| e.team_id.is_some() && e.group_ids.len() == 2 && e.employment_ids.len() == 1));

    let employments = collect_pages(&page100(), |q| env.client.employments(t, q))
        .await
        .unwrap();
    assert_eq!(employments.len(), 1_000);
    assert!(employments
        .iter()
        .all(|e| e.employee_id.as_deref().is_some_and(|id| ids.contains(id))));
    let teams = collect_pages(&page100(), |q| env.client.teams(t, q))
        .await
        .unwrap();
    assert_eq!(teams.len(), 125);
    let team_ids: HashSet<_> = teams.iter().map(|t| t.id.clone()).collect();
    assert!(employees
        .iter()
        .all(|e| team_ids.contains(e.team_id.as_deref().unwrap())));
    let locations = collect_pages(&page100(), |q| env.client.locations(t, q))
        .await
        .unwrap();
    assert!(!locations.is_empty() && locations.iter().all(|l| l.city.is_some()));
    let groups = collect_pages(&page100(), |q| env.client.groups(t, q))
        .await
        .unwrap();
    assert!(groups
        .iter()
        .any(|g| g.group_type.as_deref() == Some("DEPARTMENT")));

    // Default page size (30) pages too.
    let first = env.client.employees(t, PageQuery::default()).await.unwrap();
    assert_eq!(first.results.len(), 30);
    assert!(first.next_cursor.is_some());
}

#[tokio::test]
async fn large_organizations_page() {
    let env = Env::start().await;
    env.set_size("huge", 100_000).await;
    let ex = env.link("huge", "hibob").await;
    let mut q = page100();
    let mut ids = HashSet::new();
    for _ in 0..10 {
        let page = env
            .client
            .employees(&ex.account_token, q.clone())
            .await
            .unwrap();
        assert_eq!(page.results.len(), 100);
        for e in &page.results {
            assert!(ids.insert(e.id.clone()), "employee {} on two pages", e.id);
            assert!(e.first_name.is_some() && e.last_name.is_some());
        }
        q = q.with_cursor(page.next_cursor);
    }
    assert_eq!(ids.len(), 1_000);
    assert!(
        q.cursor.is_some(),
        "a 100,000-employee organization has more pages"
    );
}

fn max_modified(list: &[app::provider::Employee]) -> OffsetDateTime {
    list.iter()
        .map(|e| OffsetDateTime::parse(e.modified_at.as_deref().unwrap(), &Rfc3339).unwrap())
        .max()
        .unwrap()
}

#[tokio::test]
async fn modified_after_returns_increments_and_deletions() {
    let env = Env::start().await;
    env.set_size("inc", 2_000).await;
    let ex = env.link("inc", "personio").await;
    let t = &ex.account_token;
    let all_query = PageQuery {
        include_deleted_data: true,
        ..page100()
    };
    let full = collect_pages(&all_query, |q| env.client.employees(t, q))
        .await
        .unwrap();
    let mark = max_modified(&full);
    let since = PageQuery {
        modified_after: Some(mark),
        ..all_query.clone()
    };
    assert!(collect_pages(&since, |q| env.client.employees(t, q))
        .await
        .unwrap()
        .is_empty());

    env.client.force_resync(t).await.unwrap();
    let first = collect_pages(&since, |q| env.client.employees(t, q))
        .await
        .unwrap();
    assert!(
        !first.is_empty() && first.len() < 500,
        "{} changed",
        first.len()
    );
    assert!(first.iter().all(|e| OffsetDateTime::parse(
        e.modified_at.as_deref().unwrap(),
        &Rfc3339
    )
    .unwrap()
        > mark));
    let known: HashSet<_> = full.iter().map(|e| e.id.clone()).collect();
    assert!(
        first.iter().any(|e| !known.contains(&e.id)),
        "new hires appear"
    );
    let employments = collect_pages(
        &PageQuery {
            modified_after: Some(mark),
            ..all_query.clone()
        },
        |q| env.client.employments(t, q),
    )
    .await
    .unwrap();
    assert_eq!(employments.len(), first.len());

    // A day later the scheduled sync brings the next increment.
    let mark2 = max_modified(&first);
    let (status, body) = env
        .control(
            reqwest::Method::POST,
            "/sandbox/clock/advance",
            json!({"days": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["synced_accounts"][0], ex.linked_account_id.as_str());
    let second_q = PageQuery {
        modified_after: Some(mark2),
        ..all_query.clone()
    };
    let second = collect_pages(&second_q, |q| env.client.employees(t, q))
        .await
        .unwrap();
    assert!(!second.is_empty());

    // Several syncs: some employees get deleted in the HR system.
    for _ in 0..5 {
        env.client.force_resync(t).await.unwrap();
    }
    let with_deleted = collect_pages(&all_query, |q| env.client.employees(t, q))
        .await
        .unwrap();
    let deleted = with_deleted.iter().filter(|e| e.remote_was_deleted).count();
    assert!(deleted > 0);
    let without = collect_pages(&page100(), |q| env.client.employees(t, q))
        .await
        .unwrap();
    assert_eq!(without.len() + deleted, with_deleted.len());
    assert!(without.iter().all(|e| !e.remote_was_deleted));
}

#[tokio::test]
async fn relink_keeps_account_id_and_token() {
    let env = Env::start().await;
    let ex = env.link("org-r", "hibob").await;
    env.fault(json!({"kind": "relink_needed", "account_id": ex.linked_account_id}))
        .await;
    assert_eq!(
        env.client
            .account_details(&ex.account_token)
            .await
            .unwrap()
            .status,
        LinkStatus::RelinkNeeded
    );
    let broken = LinkedAccountFilter {
        status: Some(LinkStatus::RelinkNeeded),
        ..Default::default()
    };
    let listed = env.client.linked_accounts(&broken).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].status_detail.is_some());
    // Merge keeps serving already synced data while the account is broken.
    assert!(!env
        .client
        .employees(&ex.account_token, page100())
        .await
        .unwrap()
        .results
        .is_empty());
    assert!(env
        .client
        .sync_status(&ex.account_token)
        .await
        .unwrap()
        .iter()
        .all(|s| s.status == SyncState::Failed));

    // Relink: a new link token for the same end_user_origin_id.
    let lt = env
        .client
        .create_link_token(&request("org-r", None, false))
        .await
        .unwrap();
    let dialog = env
        .http
        .get(env.url(&format!(
            "/sandbox/link/dialog?link_token={}",
            lt.link_token
        )))
        .send()
        .await
        .unwrap();
    assert!(dialog
        .text()
        .await
        .unwrap()
        .contains("Update your HR system connection"));
    let done = env.complete(&lt.link_token, None).await;
    assert_eq!(done["is_relink"], true);
    let again = env
        .client
        .exchange_public_token(done["public_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(again.linked_account_id, ex.linked_account_id);
    assert_eq!(again.account_token, ex.account_token);
    assert_eq!(
        env.client
            .account_details(&ex.account_token)
            .await
            .unwrap()
            .status,
        LinkStatus::Complete
    );
    assert_eq!(env.linked_account_count().await, 1);
}

#[tokio::test]
async fn faults_map_to_provider_errors_with_bounded_retries() {
    let env = Env::start().await;
    let ex = env.link("org-f", "gusto").await;
    let t = &ex.account_token;
    let account = ex.linked_account_id.as_str();

    // Unknown public token: 404.
    assert_eq!(
        env.client.exchange_public_token("nope").await.unwrap_err(),
        ProviderError::NotFound
    );
    // Wrong API key and unknown account token: 401, not retried.
    let wrong_key =
        MergeClient::with_policy(env.sandbox.api_base_url(), "wrong", fast_policy()).unwrap();
    assert!(
        !wrong_key.integrations().await.unwrap().is_empty(),
        "the directory needs no key"
    );
    let before = env.requests().await;
    assert_eq!(
        wrong_key.account_details(t).await,
        Err(ProviderError::TokenRejected)
    );
    assert_eq!(env.requests().await - before, 1);
    assert_eq!(
        env.client
            .account_details(&AccountToken::new("bogus"))
            .await,
        Err(ProviderError::TokenRejected)
    );

    // Revoked token.
    env.fault(json!({"kind": "token_revoked", "account_id": account}))
        .await;
    assert_eq!(
        env.client.sync_status(t).await,
        Err(ProviderError::TokenRejected)
    );
    env.control(
        reqwest::Method::DELETE,
        &format!("/sandbox/faults?account_id={account}"),
        Value::Null,
    )
    .await;
    assert!(env.client.sync_status(t).await.is_ok());

    // 429 with Retry-After: waited for, then the retry succeeds.
    env.fault(
        json!({"kind": "rate_limited", "account_id": account, "count": 1, "retry_after_secs": 1}),
    )
    .await;
    let before = env.requests().await;
    assert!(env.client.account_details(t).await.is_ok());
    assert_eq!(env.requests().await - before, 2);

    // A Retry-After beyond what the client waits for: RateLimited with the hint, no retry.
    env.fault(json!({"kind": "rate_limited", "count": 1, "retry_after_secs": 120}))
        .await;
    let err = env.client.account_details(t).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(err.to_string().contains("120 seconds"));

    // 500 once: retried.
    env.fault(json!({"kind": "server_error", "count": 1})).await;
    let before = env.requests().await;
    assert!(env.client.employees(t, page100()).await.is_ok());
    assert_eq!(env.requests().await - before, 2);

    // 500 always: exactly max_attempts tries, then Unavailable.
    env.fault(json!({"kind": "server_error", "account_id": account}))
        .await;
    let before = env.requests().await;
    assert_eq!(
        env.client.employees(t, page100()).await.unwrap_err(),
        ProviderError::Unavailable
    );
    assert_eq!(env.requests().await - before, 3);
    // POSTs are not retried.
    let before = env.requests().await;
    assert_eq!(
        env.client.force_resync(t).await.unwrap_err(),
        ProviderError::Unavailable
    );
    assert_eq!(env.requests().await - before, 1);
    let before = env.requests().await;
    assert_eq!(
        env.client.delete_account(t).await.unwrap_err(),
        ProviderError::Unavailable
    );
    assert_eq!(env.requests().await - before, 1);
    env.control(reqwest::Method::DELETE, "/sandbox/faults", Value::Null)
        .await;

    // Slow answers: the per-attempt timeout fires; each retry times out too.
    env.fault(json!({"kind": "slow", "delay_ms": 1500, "count": 3}))
        .await;
    let impatient = env.client_with(RetryPolicy {
        timeout: Duration::from_millis(300),
        ..fast_policy()
    });
    let before = env.requests().await;
    assert_eq!(
        impatient.account_details(t).await.unwrap_err(),
        ProviderError::TimedOut
    );
    // Every attempt was made (and each gave up on its slow answer): the timeout, not an error
    // answer, ended them, since the sandbox answers 200 once the delay is over.
    assert_eq!(env.requests().await - before, 3);
    // One slow answer, then a retry that succeeds.
    env.control(reqwest::Method::DELETE, "/sandbox/faults", Value::Null)
        .await;
    env.fault(json!({"kind": "slow", "delay_ms": 1500, "count": 1}))
        .await;
    assert!(impatient.account_details(t).await.is_ok());

    // A cut-off JSON body on a 200: an idempotent call tries again (and gets the whole answer) ...
    env.fault(json!({"kind": "malformed_json", "count": 1}))
        .await;
    let before = env.requests().await;
    assert!(env.client.employees(t, page100()).await.is_ok());
    assert_eq!(env.requests().await - before, 2);
    // ... a bounded number of times, then UnexpectedResponse ...
    env.fault(json!({"kind": "malformed_json", "count": 3}))
        .await;
    let before = env.requests().await;
    assert_eq!(
        env.client.employees(t, page100()).await.unwrap_err(),
        ProviderError::UnexpectedResponse
    );
    assert_eq!(env.requests().await - before, 3);
    // ... and a POST is not sent twice.
    env.fault(json!({"kind": "malformed_json", "count": 1}))
        .await;
    let before = env.requests().await;
    assert_eq!(
        env.client.force_resync(t).await.unwrap_err(),
        ProviderError::UnexpectedResponse
    );
    assert_eq!(env.requests().await - before, 1);
    assert!(env.client.employees(t, page100()).await.is_ok());

    // A token (or API key) with CR/LF cannot be sent: refused at once, never sent nor retried.
    let before = env.requests().await;
    let started = std::time::Instant::now();
    assert_eq!(
        env.client
            .account_details(&AccountToken::new(format!(
                "{}\r\nX-Injected: 1",
                t.expose()
            )))
            .await,
        Err(ProviderError::TokenRejected)
    );
    let bad_key =
        MergeClient::with_policy(env.sandbox.api_base_url(), "key\n", fast_policy()).unwrap();
    assert_eq!(
        bad_key.sync_status(t).await,
        Err(ProviderError::TokenRejected)
    );
    assert_eq!(env.requests().await - before, 0);
    assert!(started.elapsed() < Duration::from_millis(200), "no backoff");

    // Texts for admins never carry bodies or tokens.
    for e in [
        ProviderError::TokenRejected,
        ProviderError::Unavailable,
        ProviderError::UnexpectedResponse,
    ] {
        assert!(!e.to_string().contains(t.expose()) && !e.to_string().contains('{'));
    }
}

/// A hanging Merge holds a request only as long as the call's budget, whatever the tries add up
/// to, and the user is told it timed out. Background work gets a longer budget.
#[tokio::test]
async fn a_hanging_merge_is_cut_off_at_the_call_budget() {
    let env = Env::start().await;
    let ex = env.link("org-budget", "gusto").await;
    let t = &ex.account_token;
    env.fault(json!({"kind": "slow", "delay_ms": 10_000})).await;

    // Three tries of 400 ms (plus backoff) would take 1.2 s; the budget is 700 ms.
    let budgeted = env.client_with(RetryPolicy {
        timeout: Duration::from_millis(400),
        budget: Duration::from_millis(700),
        ..fast_policy()
    });
    let started = std::time::Instant::now();
    let err = budgeted.account_details(t).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, ProviderError::TimedOut);
    assert!(took < Duration::from_millis(1000), "held for {took:?}");
    assert!(
        took >= Duration::from_millis(650),
        "cut at the budget: {took:?}"
    );
    assert!(err
        .message(&app::i18n::EN)
        .contains("did not answer in time"));
    assert!(err
        .message(&app::i18n::DE)
        .contains("nicht rechtzeitig geantwortet"));

    // A single try that times out says so too.
    let once = env.client_with(RetryPolicy {
        timeout: Duration::from_millis(200),
        max_attempts: 1,
        ..fast_policy()
    });
    assert_eq!(
        once.account_details(t).await.unwrap_err(),
        ProviderError::TimedOut
    );
    env.control(reqwest::Method::DELETE, "/sandbox/faults", Value::Null)
        .await;

    // Interactive calls (the default) fit in 20 s at 10 s a try; background work gets longer.
    let interactive = RetryPolicy::interactive();
    assert_eq!(RetryPolicy::default(), interactive);
    assert!(interactive.budget <= Duration::from_secs(20));
    assert!(interactive.timeout <= Duration::from_secs(10));
    let background = RetryPolicy::background();
    assert!(background.budget > interactive.budget && background.timeout >= interactive.timeout);
    let client = MergeClient::new(env.sandbox.api_base_url(), KEY).unwrap();
    assert_eq!(client.policy(), &interactive);
    let worker = client.with_budget(background.clone());
    assert_eq!(worker.policy(), &background);
    assert!(worker.account_details(t).await.is_ok());
}

/// Webhooks are delivered as Merge delivers them: a 5xx is tried again with the same body and
/// signature, until the retries run out; a 4xx drops the event.
#[tokio::test]
async fn webhooks_are_retried_after_5xx_and_dropped_after_4xx() {
    let env = Env::start_with(|c| {
        c.webhook_retry_delays = vec![Duration::from_millis(50), Duration::from_millis(100)];
    })
    .await;
    // The receiver answers each event's attempts from that event's plan, then 200.
    type Plans = std::collections::HashMap<String, std::collections::VecDeque<u16>>;
    let plans = std::sync::Arc::new(std::sync::Mutex::new(Plans::new()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String, Bytes, u16)>();
    let receiver = Router::new().route(
        "/hooks",
        post({
            let plans = plans.clone();
            move |headers: HeaderMap, body: Bytes| {
                let (plans, tx) = (plans.clone(), tx.clone());
                async move {
                    let event = serde_json::from_slice::<Value>(&body).unwrap()["hook"]["event"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let status = plans
                        .lock()
                        .unwrap()
                        .get_mut(&event)
                        .and_then(|p| p.pop_front())
                        .unwrap_or(200);
                    let signature = headers["x-merge-webhook-signature"]
                        .to_str()
                        .unwrap()
                        .to_string();
                    let _ = tx.send((event, signature, body, status));
                    StatusCode::from_u16(status).unwrap()
                }
            }
        }),
    );
    env.send_webhooks_to(receiver).await;
    // Collects attempts until the sandbox has been quiet for well over its whole retry schedule.
    type Attempt = (String, String, Bytes, u16);
    async fn attempts(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Attempt>) -> Vec<Attempt> {
        let mut seen = vec![];
        while let Ok(Some(a)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            seen.push(a);
        }
        seen
    }
    let of = |seen: &[(String, String, Bytes, u16)], event: &str| -> Vec<(String, Bytes, u16)> {
        seen.iter()
            .filter(|a| a.0 == event)
            .map(|a| (a.1.clone(), a.2.clone(), a.3))
            .collect()
    };
    let statuses = |seen: &[(String, String, Bytes, u16)], event: &str| -> Vec<u16> {
        of(seen, event).iter().map(|a| a.2).collect()
    };

    // Two failures, then success: three attempts of one identical, signed delivery.
    // The initial sync's webhook is refused with a 4xx: one attempt, dropped.
    plans.lock().unwrap().extend([
        ("LinkedAccount.linked".to_string(), [503, 500].into()),
        ("LinkedAccount.sync_completed".to_string(), [400].into()),
    ]);
    let lt = env
        .client
        .create_link_token(&request("org-r1", Some("personio"), false))
        .await
        .unwrap();
    env.complete(&lt.link_token, None).await;
    let seen = attempts(&mut rx).await;
    let linked = of(&seen, "LinkedAccount.linked");
    assert_eq!(statuses(&seen, "LinkedAccount.linked"), [503, 500, 200]);
    assert!(linked
        .iter()
        .all(|a| a.0 == linked[0].0 && a.1 == linked[0].1));
    assert_eq!(statuses(&seen, "LinkedAccount.sync_completed"), [400]);

    // A receiver that keeps failing gets one attempt and the two retries, no more.
    plans
        .lock()
        .unwrap()
        .insert("LinkedAccount.linked".into(), [503; 10].into());
    let lt = env
        .client
        .create_link_token(&request("org-r2", Some("personio"), false))
        .await
        .unwrap();
    env.complete(&lt.link_token, None).await;
    let seen = attempts(&mut rx).await;
    assert_eq!(statuses(&seen, "LinkedAccount.linked"), [503, 503, 503]);
    assert_eq!(statuses(&seen, "LinkedAccount.sync_completed"), [200]);
}

#[tokio::test]
async fn magic_link_dialog_and_signed_webhooks() {
    let env = Env::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let receiver = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                StatusCode::OK
            }
        }),
    );
    env.send_webhooks_to(receiver).await;

    let lt = env
        .client
        .create_link_token(&request("org-m", None, true))
        .await
        .unwrap();
    let magic = lt.magic_link_url.clone().unwrap();
    let opened = env.http.get(&magic).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    let dialog_url = opened.url().clone();
    let intro = opened.text().await.unwrap();
    assert!(
        intro.contains("Connect your HR system")
            && intro.contains(r#"<input type="hidden" name="consent" value="1">"#)
            && intro.contains(">I agree, continue</button>")
    );
    let choose = env
        .http
        .get(format!("{dialog_url}&consent=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        choose.contains("Choose your HR system")
            && choose.contains("BambooHR")
            && !choose.contains("Greenhouse")
    );
    let form = env
        .http
        .get(format!("{dialog_url}&consent=1&integration=bamboohr"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains(r#"<label for="password">"#));
    assert!(form.contains(r#"<label for="tenant">Company domain</label>"#));
    assert!(form.contains(r#"value="org-m-inc.example.com""#), "{form}");

    let submit = |password: &'static str| {
        let fields = [
            ("link_token", lt.link_token.as_str()),
            ("mode", "magic"),
            ("integration", "bamboohr"),
            ("tenant", "org-m-inc.example.com"),
            ("username", "admin@demo.example"),
            ("password", password),
        ];
        env.http
            .post(env.url("/sandbox/link/dialog"))
            .form(&fields)
            .send()
    };
    let wrong = submit("nope").await.unwrap().text().await.unwrap();
    assert!(wrong.contains(r#"role="alert""#) && wrong.contains("not correct"));
    let ok = submit(sandbox::DEMO_PASSWORD)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ok.contains("BambooHR is connected (company domain org-m-inc.example.com)."),
        "{ok}"
    );

    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let signature = headers[sandbox::SIGNATURE_HEADER].to_str().unwrap();
    assert_eq!(signature, sandbox::sign_webhook("whsec", &body));
    assert_eq!(
        signature.trim_end_matches('='),
        expected_signature("whsec", &body)
    );
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["hook"]["event"], "LinkedAccount.linked");
    assert_eq!(payload["data"]["is_relink"], false);
    assert_eq!(payload["linked_account"]["integration_slug"], "bamboohr");
    let token = AccountToken::new(payload["data"]["account_token"].as_str().unwrap());
    assert_eq!(
        env.client
            .account_details(&token)
            .await
            .unwrap()
            .end_user_origin_id
            .as_deref(),
        Some("org-m")
    );
    let (_, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let synced: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(synced["hook"]["event"], "LinkedAccount.sync_completed");
    assert_eq!(synced["data"]["is_initial_sync"], true);
    assert_eq!(
        synced["data"]["sync_status"]["hris.Employee"]["last_sync_result"],
        "DONE"
    );

    // Used: refused.
    assert_eq!(env.http.get(&magic).send().await.unwrap().status(), 410);
    // Expired after 7 days on the sandbox clock.
    let lt2 = env
        .client
        .create_link_token(&request("org-m2", None, true))
        .await
        .unwrap();
    let magic2 = lt2.magic_link_url.unwrap();
    assert_eq!(env.http.get(&magic2).send().await.unwrap().status(), 200);
    env.control(
        reqwest::Method::POST,
        "/sandbox/clock/advance",
        json!({"days": 7, "minutes": 1}),
    )
    .await;
    let expired = env.http.get(&magic2).send().await.unwrap();
    assert_eq!(expired.status(), 410);
    assert!(expired.text().await.unwrap().contains("expired"));
}

fn expected_signature(key: &str, body: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn link_script_and_embedded_dialog() {
    let env = Env::start().await;
    let js = env
        .http
        .get(env.sandbox.link_script_url())
        .send()
        .await
        .unwrap();
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let js = js.text().await.unwrap();
    for needle in [
        "window.MergeLink",
        "initialize",
        "openLink",
        "onSuccess",
        "onExit",
        "onReady",
        "aria-modal",
    ] {
        assert!(js.contains(needle), "{needle}");
    }
    let lt = env
        .client
        .create_link_token(&request("org-j", Some("deel"), false))
        .await
        .unwrap();
    let url = env.url(&format!(
        "/sandbox/link/dialog?mode=embed&consent=1&link_token={}",
        lt.link_token
    ));
    let form = env
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Sign in to Deel") && form.contains(r#"data-link-event="exit""#));
    let fields = [
        ("link_token", lt.link_token.as_str()),
        ("mode", "embed"),
        ("integration", "deel"),
        ("username", "u"),
        ("password", sandbox::DEMO_PASSWORD),
    ];
    let done = env
        .http
        .post(env.url("/sandbox/link/dialog"))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains(r#"id="link-success" data-public-token=""#));
    assert!(done.contains(r#"data-other-preexisting="false""#));
    let public_token = done
        .split(r#"data-public-token=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let ex = env
        .client
        .exchange_public_token(public_token)
        .await
        .unwrap();
    assert_eq!(ex.integration.name, "Deel");
}

/// Merge lets an admin relink an existing connection (a link token for the same
/// `end_user_origin_id`) and sign in to another tenant of the HR system. Same tenant: the same
/// linked account. Another tenant: the sandbox links a new account (Merge's exact behaviour is
/// unconfirmed; see `Sandbox::complete_link`).
#[tokio::test]
async fn relink_to_the_same_or_a_different_tenant() {
    let env = Env::start().await;
    let first = env.link("org-t", "workday").await;
    let accounts = env.accounts().await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["tenant"], "org-t-inc.example.com");

    // Same tenant, through the dialog: the field is prefilled with the account's tenant.
    let lt = env
        .client
        .create_link_token(&request("org-t", None, false))
        .await
        .unwrap();
    let (status, form) = env
        .page(&format!(
            "/sandbox/link/dialog?mode=embed&consent=1&link_token={}",
            lt.link_token
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Reconnect Workday"), "{form}");
    assert!(form.contains(r#"<label for="tenant">Company domain</label>"#));
    assert!(
        form.contains(r#"name="tenant" type="text""#)
            && form.contains(r#"value="org-t-inc.example.com""#)
    );
    let (status, done) = env
        .post_dialog(&[
            ("link_token", &lt.link_token),
            ("mode", "embed"),
            ("integration", "workday"),
            ("tenant", " Org-T-Inc.Example.com "),
            ("username", "admin@demo.example"),
            ("password", sandbox::DEMO_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains(r#"data-other-preexisting="false""#));
    let token = done
        .split(r#"data-public-token=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let same = env.client.exchange_public_token(token).await.unwrap();
    assert_eq!(same.linked_account_id, first.linked_account_id);
    assert_eq!(same.account_token, first.account_token);
    assert_eq!(env.accounts().await.len(), 1);

    // A blank or malformed tenant: the form comes back with the error on that field.
    let lt = env
        .client
        .create_link_token(&request("org-t", None, false))
        .await
        .unwrap();
    for bad in ["", "not a domain"] {
        let (status, again) = env
            .post_dialog(&[
                ("link_token", &lt.link_token),
                ("mode", "embed"),
                ("integration", "workday"),
                ("tenant", bad),
                ("username", "admin@demo.example"),
                ("password", sandbox::DEMO_PASSWORD),
            ])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(again.contains(r#"role="alert""#) && again.contains("company domain"));
        assert!(
            again.contains(
                r#"aria-invalid="true" aria-describedby="tenant-hint form-error" autofocus"#
            ),
            "{again}"
        );
    }
    let (status, _) = env
        .complete_with(&lt.link_token, json!({"tenant": "bad domain!"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another tenant, same link token (still unused): a new linked account, new token.
    let (status, other) = env
        .post_dialog(&[
            ("link_token", &lt.link_token),
            ("mode", "embed"),
            ("integration", "workday"),
            ("tenant", "other-tenant.example.com"),
            ("username", "admin@demo.example"),
            ("password", sandbox::DEMO_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert!(other.contains(
        "Workday is connected as a new connection (company domain other-tenant.example.com)."
    ));
    assert!(other.contains(r#"data-other-preexisting="false""#));
    let token = other
        .split(r#"data-public-token=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let second = env.client.exchange_public_token(token).await.unwrap();
    assert_ne!(second.linked_account_id, first.linked_account_id);
    assert_ne!(second.account_token, first.account_token);
    assert_eq!(second.integration.slug.as_deref(), Some("workday"));
    let by_origin = LinkedAccountFilter {
        end_user_origin_id: Some("org-t".into()),
        ..Default::default()
    };
    assert_eq!(
        env.client.linked_accounts(&by_origin).await.unwrap().len(),
        2
    );
    // Both tokens work; the other tenant has other people.
    let old_ids: HashSet<_> = env
        .client
        .employees(&first.account_token, page100())
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|e| e.id)
        .collect();
    let new_ids: HashSet<_> = env
        .client
        .employees(&second.account_token, page100())
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(!new_ids.is_empty() && old_ids.is_disjoint(&new_ids));

    // The control API takes a tenant too. The newest account is the one the dialog offers now;
    // completing with the first tenant goes back to the first account.
    let lt = env
        .client
        .create_link_token(&request("org-t", None, false))
        .await
        .unwrap();
    let (_, form) = env
        .page(&format!(
            "/sandbox/link/dialog?mode=embed&consent=1&link_token={}",
            lt.link_token
        ))
        .await;
    assert!(form.contains(r#"value="other-tenant.example.com""#));
    let (status, back) = env
        .complete_with(&lt.link_token, json!({"tenant": "org-t-inc.example.com"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["linked_account_id"], first.linked_account_id.as_str());
    assert_eq!(back["is_relink"], true);
    assert_eq!(
        back["previous_linked_account_id"],
        second.linked_account_id.as_str()
    );
    assert_eq!(back["is_token_for_other_preexisting_linked_account"], true);
    let ex = env
        .client
        .exchange_public_token(back["public_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(ex.account_token, first.account_token);

    // And a third tenant through the control API: a third account.
    let lt = env
        .client
        .create_link_token(&request("org-t", None, false))
        .await
        .unwrap();
    let (status, third) = env
        .complete_with(&lt.link_token, json!({"tenant": "third.example.com"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(third["is_relink"], false);
    assert_eq!(third["tenant"], "third.example.com");
    assert_eq!(
        third["is_token_for_other_preexisting_linked_account"],
        false
    );
    let ids: HashSet<_> = env
        .accounts()
        .await
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
}

/// Every screen of the dialog: one `h1`, a `main`, `lang`, every visible field labelled, every
/// button named; keyboard handling (Escape, Tab wrap) in the page script.
#[tokio::test]
async fn dialog_screens_are_labelled() {
    let env = Env::start().await;
    let new = env
        .client
        .create_link_token(&request("org-a11y", None, false))
        .await
        .unwrap();
    let base = format!(
        "/sandbox/link/dialog?mode=embed&link_token={}",
        new.link_token
    );
    let mut screens = vec![
        env.page(&base).await.1,
        env.page(&format!("{base}&consent=1")).await.1,
        env.page(&format!("{base}&consent=1&integration=hibob"))
            .await
            .1,
    ];
    screens.push(
        env.post_dialog(&[
            ("link_token", &new.link_token),
            ("mode", "embed"),
            ("integration", "hibob"),
            ("tenant", "org-a11y.example.com"),
            ("username", "admin@demo.example"),
            ("password", "wrong"),
        ])
        .await
        .1,
    );
    screens.push(
        env.post_dialog(&[
            ("link_token", &new.link_token),
            ("mode", "embed"),
            ("integration", "hibob"),
            ("tenant", "org-a11y.example.com"),
            ("username", "admin@demo.example"),
            ("password", sandbox::DEMO_PASSWORD),
        ])
        .await
        .1,
    );
    screens.push(
        env.page("/sandbox/link/dialog?mode=embed&link_token=nope")
            .await
            .1,
    );
    for html in &screens {
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert_eq!(html.matches("<h1").count(), 1, "{html}");
        assert_eq!(html.matches("<main").count(), 1);
        assert!(html.contains("<title>") && !html.contains("<title> ·"));
        assert!(html.contains(r#"e.key === "Escape""#) && html.contains(r#"e.key !== "Tab""#));
        for input in html.split("<input").skip(1) {
            let tag = input.split('>').next().unwrap();
            if tag.contains(r#"type="hidden""#) {
                continue;
            }
            let id = tag
                .split(r#"id=""#)
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assert!(
                html.contains(&format!(r#"<label for="{id}">"#)),
                "no label for {id}"
            );
        }
        for button in html.split("<button").skip(1) {
            let inner = button
                .split_once('>')
                .unwrap()
                .1
                .split("</button>")
                .next()
                .unwrap();
            let text: String = inner
                .split('<')
                .map(|s| s.split_once('>').map_or(s, |x| x.1))
                .collect();
            assert!(!text.trim().is_empty(), "unnamed button: {button}");
        }
        assert!(
            html.matches(" autofocus").count() <= 1,
            "one autofocus at most"
        );
    }
    assert!(screens[1].contains(r#"<ul class="systems" aria-label="HR systems">"#));
    assert!(screens[1].contains(r#"name="integration" value="hibob""#));
    assert!(screens[3].contains(r#"id="password" name="password" type="password" autocomplete="current-password" required aria-invalid="true""#));
    assert!(screens[4].contains(">Done</button>") && !screens[4].contains(">Cancel<"));
}

/// A tiny server with canned answers, for what the sandbox does not produce.
#[tokio::test]
async fn canned_responses() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let group_hits = Arc::new(AtomicUsize::new(0));
    let g = group_hits.clone();
    let app = Router::new()
        .route(
            "/api/hris/v1/employees",
            get(|axum::extract::RawQuery(q): axum::extract::RawQuery| async move {
                // `next` as a full URL, `previous` too; the second page has `results: null`… then one item.
                match q.as_deref().unwrap_or("") {
                    q if q.contains("cursor=c2") => axum::Json(json!({"next": null, "previous": "x", "results": [{"id": "e2", "manager": {"id": "e1"}}]})),
                    _ => axum::Json(json!({"next": "https://api.merge.dev/api/hris/v1/employees?cursor=c2&page_size=1", "previous": null, "results": [{"id": "e1", "groups": ["g1", null, {"id": "g2", "name": "x"}]}]})),
                }
            }),
        )
        .route(
            "/api/hris/v1/teams",
            get(move || {
                let n = h.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "{\"detail\":\"slow down\"}").into_response()
                    } else {
                        axum::Json(json!({"next": null, "previous": null, "results": null})).into_response()
                    }
                }
            }),
        )
        .route("/api/hris/v1/locations", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "<html>down</html>") }))
        .route("/api/hris/v1/groups", get(move || {
            g.fetch_add(1, Ordering::SeqCst);
            async { (StatusCode::OK, "not json") }
        }))
        .route("/api/hris/v1/account-details", get(|| async { (StatusCode::FORBIDDEN, "{\"detail\":\"nope\"}") }))
        .route("/api/hris/v1/delete-account", post(|| async { StatusCode::OK }))
        .route("/api/hris/v1/link-token", post(|| async { (StatusCode::BAD_REQUEST, "{\"end_user_origin_id\":[\"required\"]}") }))
        .route("/api/integrations", get(|| async {
            axum::Json(json!({"next": null, "previous": null, "results": [
                {"name": "Personio", "slug": "personio", "categories": ["hris"], "color": "#000"},
                {"name": "Lever", "slug": "lever", "categories": ["ats"]}]}))
        }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = MergeClient::with_policy(base, KEY, fast_policy()).unwrap();
    let t = AccountToken::new("tok");

    let all = collect_pages(&PageQuery::default(), |q| client.employees(&t, q))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e1", "e2"]
    );
    assert_eq!(all[0].group_ids, ["g1", "g2"]);
    assert_eq!(all[1].manager_id.as_deref(), Some("e1"));
    assert!(client
        .teams(&t, PageQuery::default())
        .await
        .unwrap()
        .results
        .is_empty());
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(
        client
            .locations(&t, PageQuery::default())
            .await
            .unwrap_err(),
        ProviderError::Unavailable
    );
    assert_eq!(
        client.groups(&t, PageQuery::default()).await.unwrap_err(),
        ProviderError::UnexpectedResponse
    );
    // A whole answer that is not JSON would not change: not tried again.
    assert_eq!(group_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        client.account_details(&t).await.unwrap_err(),
        ProviderError::TokenRejected
    );
    client.delete_account(&t).await.unwrap();
    assert_eq!(
        client
            .create_link_token(&request("x", None, false))
            .await
            .unwrap_err(),
        ProviderError::InvalidRequest
    );
    let directory = client.integrations().await.unwrap();
    assert_eq!(directory.len(), 1);
    assert_eq!(directory[0].slug.as_deref(), Some("personio"));

    // Nothing listening: Unavailable after the bounded retries, quickly.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_base = format!("http://{}/api", dead.local_addr().unwrap());
    drop(dead);
    let client = MergeClient::with_policy(dead_base, KEY, fast_policy()).unwrap();
    assert_eq!(
        client.account_details(&t).await.unwrap_err(),
        ProviderError::Unavailable
    );
}

/// A client written only from Merge's published API (raw HTTP + JSON) gets Merge-shaped answers.
#[tokio::test]
async fn independent_client_sees_merge_shapes() {
    let env = Env::start().await;
    let http = test_http();
    let base = env.sandbox.api_base_url();
    let auth = format!("Bearer {KEY}");

    let r = http
        .post(format!("{base}/hris/v1/link-token"))
        .header("Authorization", &auth)
        .json(&json!({
            "end_user_email_address": "it@example.com",
            "end_user_organization_name": "Raw Co",
            "end_user_origin_id": "raw-1",
            "categories": ["hris"],
            "integration": "bamboohr",
            "should_create_magic_link_url": true,
            "link_expiry_mins": 10080
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let lt: Value = r.json().await.unwrap();
    assert!(lt["link_token"].is_string() && lt["magic_link_url"].is_string());
    assert_eq!(lt["integration_name"], "BambooHR");

    // Validation errors are DRF field lists; expiry beyond 720 needs a magic link.
    let r = http
        .post(format!("{base}/hris/v1/link-token"))
        .header("Authorization", &auth)
        .json(&json!({"categories": ["hris"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["end_user_email_address"][0].is_string());
    let r = http
        .post(format!("{base}/hris/v1/link-token"))
        .header("Authorization", &auth)
        .json(&json!({"end_user_email_address": "a@b.c", "end_user_organization_name": "A", "end_user_origin_id": "a", "categories": ["hris"], "link_expiry_mins": 10080}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let done = env.complete(lt["link_token"].as_str().unwrap(), None).await;
    let r = http
        .get(format!(
            "{base}/hris/v1/account-token/{}",
            done["public_token"].as_str().unwrap()
        ))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    let at: Value = r.json().await.unwrap();
    let token = at["account_token"].as_str().unwrap().to_string();
    assert!(
        at["id"].is_string()
            && at["integration"]["name"] == "BambooHR"
            && at["integration"]["categories"].is_array()
    );

    // Missing headers: DRF details, 401.
    let r = http
        .get(format!("{base}/hris/v1/account-details"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    let r = http
        .get(format!("{base}/hris/v1/account-details"))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Account Token must be passed in as an X-Account-Token header."
    );

    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .header("Authorization", &auth)
            .header("X-Account-Token", &token)
            .send()
    };
    let details: Value = get("/hris/v1/account-details".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in [
        "id",
        "integration",
        "integration_slug",
        "category",
        "end_user_origin_id",
        "status",
        "account_type",
        "completed_at",
    ] {
        assert!(details.get(key).is_some(), "account-details.{key}");
    }
    assert_eq!(details["status"], "COMPLETE");

    // Paging: follow `next` as the cursor, other parameters unchanged.
    let mut ids = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/hris/v1/employees?page_size=7&expand=employments&cursor={c}"),
            None => "/hris/v1/employees?page_size=7&expand=employments".to_string(),
        };
        let page: Value = get(path).await.unwrap().json().await.unwrap();
        assert!(page.get("previous").is_some());
        for e in page["results"].as_array().unwrap() {
            assert!(
                e["id"].is_string() && e["remote_id"].is_string() && e["modified_at"].is_string()
            );
            assert!(
                e["employments"][0]["job_title"].is_string(),
                "expanded relation is an object"
            );
            assert!(e["team"].is_string(), "unexpanded relation is an id");
            assert!(e["remote_was_deleted"].is_boolean());
            ids.insert(e["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(ids.len(), 40);
    let one = ids.iter().next().unwrap();
    let employee: Value = get(format!("/hris/v1/employees/{one}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(employee["id"], one.as_str());
    let r = get("/hris/v1/employees?cursor=garbage".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = get("/hris/v1/employees?modified_after=yesterday".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let sync: Value = get("/hris/v1/sync-status".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sync["results"][0]["model_id"], "hris.Employee");
    assert!(sync["results"][0]["is_initial_sync"].is_boolean());
    let r = http
        .post(format!("{base}/hris/v1/sync-status/resync"))
        .header("Authorization", &auth)
        .header("X-Account-Token", &token)
        .send()
        .await
        .unwrap();
    assert!(
        r.json::<Value>().await.unwrap().is_array(),
        "resync answers a bare array"
    );
    let accounts: Value = http
        .get(format!(
            "{base}/hris/v1/linked-accounts?end_user_origin_id=raw-1"
        ))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["results"][0]["integration"]["slug"], "bamboohr");
    assert!(
        accounts["results"][0].get("account_token").is_none(),
        "never lists tokens"
    );
    let directory: Value = http
        .get(format!("{base}/integrations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(directory
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["slug"] == "personio"));
    let r = http
        .get(format!("{base}/hris/v1/delete-account"))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = http
        .post(format!("{base}/hris/v1/delete-account"))
        .header("Authorization", &auth)
        .header("X-Account-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        get("/hris/v1/account-details".into())
            .await
            .unwrap()
            .status(),
        401
    );
}

/// A plain HTTP client whose requests fail instead of hanging the test.
fn test_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}
