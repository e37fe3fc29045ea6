//! The control API the employee sync's tests drive, over real HTTP against a sandbox on port 0:
//! sizes, edits of named employees, bulk leavers and hires, forced sync statuses with their
//! webhook, faults on page N of one stream, and cursors that survive changes between pages.

use std::{collections::HashSet, time::Duration};

use merge_sandbox::{spawn, SandboxConfig, SandboxHandle};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Env {
    sandbox: SandboxHandle,
    http: reqwest::Client,
}

struct Account {
    id: String,
    token: String,
}

const KEY: &str = "sandbox-api-key";

impl Env {
    async fn start() -> Env {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sandbox = spawn(SandboxConfig::default(), listener).await.unwrap();
        Env {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.sandbox.addr)
    }

    async fn control(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, self.url(path));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let (status, v) = self.control(method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// Sets the organization's size (and whether it evolves at syncs), then links it.
    async fn link(&self, origin: &str, employees: usize, evolve: bool) -> Account {
        let (s, _) = self
            .control(
                Method::PUT,
                &format!("/sandbox/organizations/{origin}"),
                Some(json!({"employees": employees, "evolve": evolve})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let lt: Value = self
            .http
            .post(self.url("/api/hris/v1/link-token"))
            .bearer_auth(KEY)
            .json(&json!({
                "end_user_email_address": "admin@example.com",
                "end_user_organization_name": origin,
                "end_user_origin_id": origin,
                "categories": ["hris"],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let done = self
            .ok(
                Method::POST,
                &format!(
                    "/sandbox/link-tokens/{}/complete",
                    lt["link_token"].as_str().unwrap()
                ),
                json!({"integration": "personio"}),
            )
            .await;
        let ex: Value = self
            .http
            .get(self.url(&format!(
                "/api/hris/v1/account-token/{}",
                done["public_token"].as_str().unwrap()
            )))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Account {
            id: done["linked_account_id"].as_str().unwrap().to_string(),
            token: ex["account_token"].as_str().unwrap().to_string(),
        }
    }

    async fn get(&self, a: &Account, path_and_query: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/api/hris/v1/{path_and_query}")))
            .bearer_auth(KEY)
            .header("X-Account-Token", &a.token)
            .send()
            .await
            .unwrap()
    }

    /// Follows `next` to the end; every page must answer 200.
    async fn pull(&self, a: &Account, stream: &str, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let c = cursor
                .as_deref()
                .map_or(String::new(), |c| format!("&cursor={c}"));
            let r = self
                .get(a, &format!("{stream}?page_size=100{query}{c}"))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            let page: Value = r.json().await.unwrap();
            all.extend(page["results"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => return all,
            }
        }
    }

    async fn now(&self) -> String {
        let (_, v) = self.control(Method::GET, "/sandbox/clock", None).await;
        v["now"].as_str().unwrap().to_string()
    }
}

fn remote_ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["remote_id"].as_str().unwrap().to_string())
        .collect()
}

fn enc(t: &str) -> String {
    t.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn lists_are_in_modified_at_order_and_windows_filter() {
    let env = Env::start().await;
    let a = env.link("ordered", 1_500, true).await;
    for _ in 0..3 {
        env.ok(
            Method::POST,
            &format!("/sandbox/accounts/{}/sync", a.id),
            json!({}),
        )
        .await;
    }
    let all = env
        .pull(&a, "employees", "&include_deleted_data=true")
        .await;
    let ids: HashSet<_> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "no employee twice");
    let (_, accounts) = env.control(Method::GET, "/sandbox/accounts", None).await;
    assert_eq!(
        all.len() as u64,
        accounts["results"][0]["employees"].as_u64().unwrap()
    );
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["modified_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "modified_at order");
    let distinct: Vec<&str> = {
        let mut d = times.clone();
        d.dedup();
        d
    };
    assert!(
        distinct.len() >= 3,
        "changes at several syncs: {distinct:?}"
    );

    // (after, before): exactly the records strictly between.
    let (after, before) = (distinct[0], distinct[distinct.len() - 1]);
    let window = env
        .pull(
            &a,
            "employees",
            &format!(
                "&include_deleted_data=true&modified_after={}&modified_before={}",
                enc(after),
                enc(before)
            ),
        )
        .await;
    let expected: Vec<&Value> = all
        .iter()
        .filter(|e| {
            let t = e["modified_at"].as_str().unwrap();
            t > after && t < before
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(window.len(), expected.len());
    assert!(window
        .iter()
        .zip(&expected)
        .all(|(w, e)| w["id"] == e["id"]));
    // Employments follow their employee's order and window.
    let jobs = env
        .pull(
            &a,
            "employments",
            &format!("&include_deleted_data=true&modified_after={}", enc(after)),
        )
        .await;
    let newer = all
        .iter()
        .filter(|e| e["modified_at"].as_str().unwrap() > after)
        .count();
    assert_eq!(jobs.len(), newer);
    // remote_id filter.
    let one: Value = env
        .get(&a, "employees?remote_id=E1007")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(remote_ids(one["results"].as_array().unwrap()), ["E1007"]);
}

#[tokio::test]
async fn a_hundred_thousand_employees_page_from_anywhere() {
    let env = Env::start().await;
    let a = env.link("huge", 100_000, true).await;
    let (_, accounts) = env.control(Method::GET, "/sandbox/accounts", None).await;
    assert_eq!(accounts["results"][0]["employees"], 100_000);
    // An edit deep in the list is the only one after the mark, wherever it sits.
    let mark = env.now().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    env.ok(
        Method::PATCH,
        &format!("/sandbox/accounts/{}/employees/E99999", a.id),
        json!({"last_name": "Last"}),
    )
    .await;
    let since = env
        .pull(&a, "employees", &format!("&modified_after={}", enc(&mark)))
        .await;
    assert_eq!(remote_ids(&since), ["E99999"]);
    assert_eq!(since[0]["last_name"], "Last");
    let first: Value = env
        .get(&a, "employees?page_size=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["results"].as_array().unwrap().len(), 100);
    assert!(first["next"].is_string());
}

#[tokio::test]
async fn named_edits_change_terminate_delete_and_rehire() {
    let env = Env::start().await;
    let a = env.link("named", 300, false).await;
    let base = format!("/sandbox/accounts/{}/employees", a.id);
    let before = env.pull(&a, "employees", "&expand=employments").await;
    let e20 = before
        .iter()
        .find(|e| e["remote_id"] == "E1020")
        .unwrap()
        .clone();
    let old_title = e20["employments"][0]["job_title"]
        .as_str()
        .unwrap()
        .to_string();
    let mark = env.now().await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    // Change, by remote id: job title, last name and work e-mail really change.
    let changed = env
        .ok(
            Method::PATCH,
            &format!("{base}/E1020"),
            json!({"job_title": "Chief Tester", "last_name": "Neumann", "work_email": "n@x.example"}),
        )
        .await;
    assert_eq!(changed["last_name"], "Neumann");
    assert_eq!(changed["work_email"], "n@x.example");
    assert_eq!(changed["employments"][0]["job_title"], "Chief Tester");
    assert_ne!(old_title, "Chief Tester");
    assert!(changed["modified_at"].as_str().unwrap() > mark.as_str());
    // Terminate in the past, by Merge id.
    let e21 = before.iter().find(|e| e["remote_id"] == "E1021").unwrap();
    let gone = env
        .ok(
            Method::POST,
            &format!("{base}/{}/terminate", e21["id"].as_str().unwrap()),
            json!({"termination_date": "2020-03-31"}),
        )
        .await;
    assert_eq!(gone["employment_status"], "INACTIVE");
    assert_eq!(gone["termination_date"], "2020-03-31T00:00:00Z");
    // Terminate in the future: ACTIVE until that day on the sandbox clock.
    let tomorrow =
        (time::OffsetDateTime::parse(&mark, &time::format_description::well_known::Rfc3339)
            .unwrap()
            + time::Duration::days(1))
        .date();
    let later = env
        .ok(
            Method::POST,
            &format!("{base}/E1022/terminate"),
            json!({"termination_date": tomorrow.to_string()}),
        )
        .await;
    assert_eq!(later["employment_status"], "ACTIVE");
    assert_eq!(later["termination_date"], format!("{tomorrow}T00:00:00Z"));
    // Delete: only with include_deleted_data.
    let deleted = env
        .control(Method::DELETE, &format!("{base}/E1023"), None)
        .await
        .1;
    assert_eq!(deleted["remote_was_deleted"], true);

    // An incremental pull finds exactly the edited ones (E1023 only with deleted data).
    let q = format!("&modified_after={}", enc(&mark));
    let mut inc = remote_ids(&env.pull(&a, "employees", &q).await);
    inc.sort();
    assert_eq!(inc, ["E1020", "E1021", "E1022"]);
    let with_deleted = env
        .pull(&a, "employees", &format!("{q}&include_deleted_data=true"))
        .await;
    assert_eq!(with_deleted.len(), 4);
    let jobs = env
        .pull(&a, "employments", &format!("{q}&include_deleted_data=true"))
        .await;
    assert_eq!(jobs.len(), 4, "employments move with their employee");
    assert!(jobs.iter().any(|j| j["job_title"] == "Chief Tester"));
    let all = env.pull(&a, "employees", "").await;
    assert_eq!(all.len(), 299, "the deleted one is left out");

    // Rehire: ACTIVE, termination cleared, new start date.
    let back = env
        .ok(
            Method::POST,
            &format!("{base}/E1021/rehire"),
            json!({"start_date": "2024-06-01"}),
        )
        .await;
    assert_eq!(back["employment_status"], "ACTIVE");
    assert!(back["termination_date"].is_null());
    assert_eq!(back["start_date"], "2024-06-01T00:00:00Z");

    // The future termination takes effect on its day (the sandbox does not evolve: frozen org).
    env.ok(Method::POST, "/sandbox/clock/advance", json!({"days": 2}))
        .await;
    let (_, now22) = env
        .control(Method::GET, &format!("{base}/E1022"), None)
        .await;
    assert_eq!(now22["employment_status"], "INACTIVE");
    assert_eq!(
        now22["modified_at"], later["modified_at"],
        "no write on its day"
    );
    // The API's own lookup agrees.
    let by_id: Value = env
        .get(&a, &format!("employees/{}", now22["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id["employment_status"], "INACTIVE");

    // Unknown people and empty changes are refused.
    let (s, _) = env
        .control(
            Method::PATCH,
            &format!("{base}/E9999"),
            Some(json!({"last_name": "X"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .control(Method::PATCH, &format!("{base}/E1020"), Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env
        .control(
            Method::POST,
            &format!("{base}/E1020/terminate"),
            Some(json!({"termination_date": "31.01.2025"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cursors_stay_valid_while_records_change() {
    let env = Env::start().await;
    let a = env.link("moving", 250, false).await;
    let first: Value = env
        .get(&a, "employees?page_size=50")
        .await
        .json()
        .await
        .unwrap();
    let read = remote_ids(first["results"].as_array().unwrap());
    let all_before = env.pull(&a, "employees", "").await;
    let unread = remote_ids(&all_before)
        .into_iter()
        .find(|r| !read.contains(r))
        .unwrap();
    // One already read and one not yet read change between pages.
    for who in [&read[0], &unread] {
        env.ok(
            Method::PATCH,
            &format!("/sandbox/accounts/{}/employees/{who}", a.id),
            json!({"first_name": "Moved"}),
        )
        .await;
    }
    let mut seen = read.clone();
    let mut cursor = first["next"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page: Value = env
            .get(&a, &format!("employees?page_size=50&cursor={c}"))
            .await
            .json()
            .await
            .unwrap();
        seen.extend(remote_ids(page["results"].as_array().unwrap()));
        cursor = page["next"].as_str().map(str::to_string);
    }
    let distinct: HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), 250, "nobody skipped");
    assert_eq!(seen.len(), 251, "the read-then-changed one comes again");
    assert_eq!(seen[249..], [read[0].clone(), unread.clone()]);
}

#[tokio::test]
async fn bulk_leavers_and_new_hires() {
    let env = Env::start().await;
    let a = env.link("leavers", 1_000, false).await;
    let all = env.pull(&a, "employees", "").await;
    let active = all
        .iter()
        .filter(|e| e["employment_status"] == "ACTIVE")
        .count();
    let mark = env.now().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let out = env
        .ok(
            Method::POST,
            &format!("/sandbox/accounts/{}/leavers", a.id),
            json!({"action": "terminate", "percent": 30}),
        )
        .await;
    assert_eq!(out["active_before"], active);
    let chosen: Vec<String> = serde_json::from_value(out["remote_ids"].clone()).unwrap();
    assert_eq!(chosen.len(), (active as f64 * 0.3).round() as usize);
    let inc = env
        .pull(&a, "employees", &format!("&modified_after={}", enc(&mark)))
        .await;
    let mut got = remote_ids(&inc);
    got.sort();
    let mut want = chosen.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(inc.iter().all(|e| e["employment_status"] == "INACTIVE"));
    let ids: Vec<String> = serde_json::from_value(out["ids"].clone()).unwrap();
    assert!(inc
        .iter()
        .all(|e| ids.iter().any(|i| e["id"] == i.as_str())));

    // Deterministic: the same state picks the same people.
    let env2 = Env::start().await;
    let a2 = env2.link("leavers", 1_000, false).await;
    let out2 = env2
        .ok(
            Method::POST,
            &format!("/sandbox/accounts/{}/leavers", a2.id),
            json!({"action": "terminate", "percent": 30}),
        )
        .await;
    assert_eq!(out2["remote_ids"], out["remote_ids"]);

    // Deleting a count picks among the still active.
    let del = env
        .ok(
            Method::POST,
            &format!("/sandbox/accounts/{}/leavers", a.id),
            json!({"action": "delete", "count": 5}),
        )
        .await;
    let deleted: Vec<String> = serde_json::from_value(del["remote_ids"].clone()).unwrap();
    assert_eq!(deleted.len(), 5);
    assert!(deleted.iter().all(|d| !chosen.contains(d)));
    assert_eq!(env.pull(&a, "employees", "").await.len(), 995);

    // New hires: ACTIVE, found by an incremental pull.
    let mark2 = env.now().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let hired = env
        .ok(
            Method::POST,
            &format!("/sandbox/accounts/{}/hires", a.id),
            json!({"count": 3}),
        )
        .await;
    assert_eq!(hired["remote_ids"], json!(["H1", "H2", "H3"]));
    let new = env
        .pull(
            &a,
            "employees",
            &format!("&modified_after={}&expand=employments", enc(&mark2)),
        )
        .await;
    assert_eq!(remote_ids(&new), ["H1", "H2", "H3"]);
    assert!(new.iter().all(|e| e["employment_status"] == "ACTIVE"
        && e["termination_date"].is_null()
        && e["employments"][0]["job_title"].is_string()
        && e["manager"].is_string()));
    let (s, _) = env
        .control(
            Method::POST,
            &format!("/sandbox/accounts/{}/leavers", a.id),
            Some(json!({"action": "terminate", "percent": 30, "count": 3})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forced_sync_status_and_the_sync_completed_webhook() {
    use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
    let env = Env::start().await;
    let a = env.link("status", 50, false).await;
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let (s, _) = env
        .control(
            Method::PUT,
            "/sandbox/webhook",
            Some(json!({"url": hook_url, "signing_key": "whsec_test"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let forced = env
        .ok(
            Method::PUT,
            &format!("/sandbox/accounts/{}/sync-status", a.id),
            json!({"status": "PARTIALLY_SYNCED", "models": ["Employee"]}),
        )
        .await;
    assert_eq!(forced["results"][0]["status"], "PARTIALLY_SYNCED");
    let statuses: Value = env.get(&a, "sync-status").await.json().await.unwrap();
    for s in statuses["results"].as_array().unwrap() {
        let want = if s["model_id"] == "hris.Employee" {
            "PARTIALLY_SYNCED"
        } else {
            "DONE"
        };
        assert_eq!(s["status"], want, "{s}");
        assert_eq!(s["last_sync_result"], want);
        assert!(s["last_sync_finished"].is_string());
    }

    env.ok(
        Method::POST,
        &format!("/sandbox/accounts/{}/sync", a.id),
        json!({}),
    )
    .await;
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let signature = headers["x-merge-webhook-signature"].to_str().unwrap();
    assert_eq!(signature, merge_sandbox::sign_webhook("whsec_test", &body));
    let hook: Value = serde_json::from_slice(&body).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&hook), ["data", "hook", "linked_account"]);
    assert_eq!(hook["hook"]["event"], "LinkedAccount.sync_completed");
    assert_eq!(hook["hook"]["target"], hook_url);
    assert_eq!(hook["linked_account"]["id"], a.id.as_str());
    assert_eq!(hook["linked_account"]["integration_slug"], "personio");
    assert_eq!(
        keys(&hook["data"]),
        [
            "integration_id",
            "integration_name",
            "is_initial_sync",
            "sync_status"
        ]
    );
    assert_eq!(hook["data"]["is_initial_sync"], false);
    let per_model = &hook["data"]["sync_status"];
    assert_eq!(keys(per_model).len(), 5);
    assert_eq!(
        per_model["hris.Employee"]["last_sync_result"],
        "PARTIALLY_SYNCED"
    );
    assert_eq!(per_model["hris.Team"]["last_sync_result"], "DONE");
    assert!(per_model["hris.Employee"]["last_sync_finished"].is_string());

    // FAILED for every model, until cleared.
    env.ok(
        Method::PUT,
        &format!("/sandbox/accounts/{}/sync-status", a.id),
        json!({"status": "FAILED"}),
    )
    .await;
    let statuses: Value = env.get(&a, "sync-status").await.json().await.unwrap();
    assert!(statuses["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "FAILED" && s["last_sync_result"] == "FAILED"));
    let (s, _) = env
        .control(
            Method::DELETE,
            &format!("/sandbox/accounts/{}/sync-status", a.id),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let statuses: Value = env.get(&a, "sync-status").await.json().await.unwrap();
    assert!(statuses["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "DONE"));
    let (s, _) = env
        .control(
            Method::PUT,
            &format!("/sandbox/accounts/{}/sync-status", a.id),
            Some(json!({"status": "FAILED", "models": ["hris.Payroll"]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// Walks `employees` at page size 10 and returns each request's status, retrying a failed page.
async fn walk_with_retries(env: &Env, a: &Account, client: &reqwest::Client) -> Vec<u16> {
    let mut statuses = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let c = cursor
            .as_deref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let r = client
            .get(env.url(&format!("/api/hris/v1/employees?page_size=10{c}")))
            .bearer_auth(KEY)
            .header("X-Account-Token", &a.token)
            .send()
            .await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                assert!(e.is_timeout(), "{e}");
                statuses.push(0);
                continue;
            }
        };
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "7");
        }
        if r.status() != StatusCode::OK {
            continue;
        }
        let page: Value = r.json().await.unwrap();
        match page["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return statuses,
        }
    }
}

#[tokio::test]
async fn faults_on_page_n_of_one_stream() {
    let env = Env::start().await;
    let a = env.link("faulty", 100, false).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let fault = |spec: Value| {
        let env = &env;
        async move {
            let (s, v) = env
                .control(Method::POST, "/sandbox/faults", Some(spec))
                .await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        }
    };
    // Page 3 of 10 answers 500 twice, then succeeds; other streams and pages are untouched.
    fault(json!({"kind": "server_error", "account_id": a.id, "stream": "employees", "page": 3, "count": 2})).await;
    assert_eq!(env.pull(&a, "employments", "").await.len(), 100);
    assert_eq!(
        walk_with_retries(&env, &a, &client).await,
        [200, 200, 500, 500, 200, 200, 200, 200, 200, 200, 200, 200]
    );
    // 429 with Retry-After on page 10.
    fault(json!({"kind": "rate_limited", "stream": "employees", "page": 10, "count": 1, "retry_after_secs": 7})).await;
    let s = walk_with_retries(&env, &a, &client).await;
    assert_eq!(s[9..], [429, 200]);
    // Slower than the client's timeout on page 2, once.
    fault(json!({"kind": "slow", "account_id": a.id, "stream": "employees", "page": 2, "count": 1, "delay_ms": 5000})).await;
    let s = walk_with_retries(&env, &a, &client).await;
    assert_eq!(s[..3], [200, 0, 200], "{s:?}");
    assert_eq!(s.len(), 11);
    // A page without its stream never matches another list; bad specs are refused.
    let (st, _) = env
        .control(
            Method::POST,
            "/sandbox/faults",
            Some(json!({"kind": "server_error", "stream": "payroll"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = env
        .control(
            Method::POST,
            "/sandbox/faults",
            Some(json!({"kind": "server_error", "stream": "employees", "page": 0})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_hard_delete_leaves_no_tombstone_and_a_relink_can_reissue_merge_ids() {
    let env = Env::start().await;
    let a = env.link("org-hard", 30, false).await;
    let before = env
        .pull(&a, "employees", "&include_deleted_data=true")
        .await;
    assert_eq!(before.len(), 30);
    let (s, _) = env
        .control(
            Method::DELETE,
            &format!("/sandbox/accounts/{}/employees/E1007?hard=true", a.id),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let after = env
        .pull(&a, "employees", "&include_deleted_data=true")
        .await;
    assert_eq!(after.len(), 29);
    assert!(!remote_ids(&after).contains(&"E1007".to_string()));
    let employments = env
        .pull(&a, "employments", "&include_deleted_data=true")
        .await;
    assert_eq!(employments.len(), 29);
    let (s, _) = env
        .control(
            Method::GET,
            &format!("/sandbox/accounts/{}/employees/E1007", a.id),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A relink of the same tenant with new ids: same account, same people, other Merge ids.
    let ids = |list: &[Value]| -> HashSet<String> {
        list.iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let relinked = env.link_again("org-hard", json!({"new_ids": true})).await;
    assert_eq!(relinked["is_relink"], true);
    assert_eq!(relinked["linked_account_id"], a.id.as_str());
    let again = env
        .pull(&a, "employees", "&include_deleted_data=true")
        .await;
    assert_eq!(remote_ids(&again), remote_ids(&after));
    assert!(
        ids(&again).is_disjoint(&ids(&after)),
        "every Merge id is new"
    );
    let managers: HashSet<String> = again
        .iter()
        .filter_map(|e| e["manager"].as_str().map(str::to_string))
        .collect();
    assert!(!managers.is_empty() && managers.is_subset(&ids(&again)));
    // A relink without the option keeps the ids.
    env.link_again("org-hard", json!({})).await;
    let kept = env
        .pull(&a, "employees", "&include_deleted_data=true")
        .await;
    assert_eq!(ids(&kept), ids(&again));
}

impl Env {
    /// A new link token for `origin` completed with `extra` in the body (a relink of the same tenant).
    async fn link_again(&self, origin: &str, extra: Value) -> Value {
        let lt: Value = self
            .http
            .post(self.url("/api/hris/v1/link-token"))
            .bearer_auth(KEY)
            .json(&json!({
                "end_user_email_address": "admin@example.com",
                "end_user_organization_name": origin,
                "end_user_origin_id": origin,
                "categories": ["hris"],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        self.ok(
            Method::POST,
            &format!(
                "/sandbox/link-tokens/{}/complete",
                lt["link_token"].as_str().unwrap()
            ),
            extra,
        )
        .await
    }
}
