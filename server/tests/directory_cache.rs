//! The directory cache against the sandbox: one call for many waiters, and a hanging directory
//! call holds no one else up.

use std::{sync::Arc, time::Duration};

use app::{
    domain::directory::DirectoryCache,
    i18n::EN,
    provider::{HrisProvider, LinkedAccountFilter, MergeClient, RetryPolicy},
};
use merge_sandbox::{self as sandbox, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};
use tokio::{net::TcpListener, time::timeout};

const KEY: &str = "test-api-key";

struct Env {
    sandbox: SandboxHandle,
    provider: Arc<dyn HrisProvider>,
    http: reqwest::Client,
}

impl Env {
    async fn start() -> Env {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = SandboxConfig {
            api_key: KEY.into(),
            ..SandboxConfig::default()
        };
        let sandbox = sandbox::spawn(config, listener).await.unwrap();
        let policy = RetryPolicy {
            timeout: Duration::from_secs(30),
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let provider =
            Arc::new(MergeClient::with_policy(sandbox.api_base_url(), KEY, policy).unwrap());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Env {
            sandbox,
            provider,
            http,
        }
    }

    async fn fault(&self, spec: Value) {
        let r = self
            .http
            .post(format!("{}/sandbox/faults", self.sandbox.public_url))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    async fn requests(&self) -> u64 {
        let v: Value = self
            .http
            .get(format!("{}/sandbox/requests", self.sandbox.public_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["api_requests"].as_u64().unwrap()
    }
}

#[tokio::test]
async fn one_directory_call_for_many_waiters_and_a_hanging_refresh_holds_no_one() {
    let env = Env::start().await;
    let cache = Arc::new(DirectoryCache::with_ttl(Duration::from_millis(300)));

    // An empty cache and a slow directory: five callers, one call.
    env.fault(json!({"kind": "slow", "delay_ms": 500, "count": 1}))
        .await;
    let before = env.requests().await;
    let callers = (0..5).map(|_| {
        let (cache, provider) = (cache.clone(), env.provider.clone());
        tokio::spawn(async move { cache.get(provider.as_ref(), &EN).await })
    });
    let lists: Vec<_> = futures_join(callers).await;
    assert!(lists.iter().all(|l| l.as_ref().unwrap().len() >= 10));
    assert_eq!(env.requests().await - before, 1, "one call for all waiters");

    // The copy expires and the directory endpoint hangs for the caller that refreshes it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    env.fault(json!({"kind": "slow", "delay_ms": 60_000, "count": 1}))
        .await;
    let before = env.requests().await;
    let refresher = {
        let (cache, provider) = (cache.clone(), env.provider.clone());
        tokio::spawn(async move { cache.get(provider.as_ref(), &EN).await })
    };
    while env.requests().await == before {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Everyone else still gets an answer at once: the last copy.
    for _ in 0..3 {
        let list = timeout(
            Duration::from_secs(2),
            cache.get(env.provider.as_ref(), &EN),
        )
        .await
        .expect("the directory answers while a refresh hangs")
        .unwrap();
        assert_eq!(&list, lists[0].as_ref().unwrap());
    }
    let entry = timeout(
        Duration::from_secs(2),
        cache.entry(env.provider.as_ref(), &EN, "gusto"),
    )
    .await
    .expect("a page showing a connection answers while a refresh hangs")
    .unwrap();
    assert!(entry.is_some());
    // Other provider calls answer too.
    timeout(
        Duration::from_secs(2),
        env.provider
            .linked_accounts(&LinkedAccountFilter::default()),
    )
    .await
    .expect("other provider calls answer")
    .unwrap();
    assert!(!refresher.is_finished(), "the refresh is still hanging");
    refresher.abort();
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}
