//! The host platform's directory API (`/v1/employees`, `/v1/teams`, `/v1/locations`) over real
//! HTTP on SQLite and PostgreSQL, after real syncs from the Merge sandbox; and the
//! `directory.changed` webhook reaching a receiver of the host's.

mod common;
mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    auth::Identity,
    domain::{
        connections as conn,
        sync::{engine, notify, triggers, HostWebhook},
    },
    i18n::EN,
    model::ConnectionView,
    provider::{collect_pages, AccountToken, PageQuery},
    state::AppState,
    storage::SyncRunRecord,
};
use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::Sha256;
use support::{Backend, SecEnv, HOST_AUDIENCE, HOST_ISSUER, HOST_SECRET};

on_both_backends!(
    a_synced_directory_is_served_page_by_page_with_no_duplicates_and_no_gaps,
    modified_after_returns_only_later_changes_and_include_inactive_shows_leavers,
    bad_tokens_are_refused_with_401_and_a_bearer_challenge,
    a_token_of_another_organization_never_sees_its_people,
    page_size_and_cursor_are_checked,
    directory_changed_reaches_the_host_signed_with_the_runs_counts,
);

// ---- helpers ----

fn now() -> i64 {
    app::storage::now_ms() / 1000
}

fn sign_token(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn directory_claims(org: &str) -> Value {
    json!({
        "iss": HOST_ISSUER, "aud": HOST_AUDIENCE, "org_id": org,
        "permissions": ["read_directory"], "iat": now(), "exp": now() + 300,
    })
}

/// A directory token of the host platform for `org`.
fn directory_token(org: &str) -> String {
    sign_token(&directory_claims(org), HOST_SECRET.as_bytes())
}

struct Got {
    status: StatusCode,
    challenge: Option<String>,
    json: Value,
}

async fn get(env: &common::TestEnv, base: &str, path: &str, auth: Option<&str>) -> Got {
    let mut req = env.http.get(format!("{base}{path}"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = req.send().await.unwrap();
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{path}"
    );
    let json = res.json().await.unwrap_or(Value::Null);
    Got {
        status,
        challenge,
        json,
    }
}

/// Every record of a list, page by page (asserting each page's size and the cursor's end).
async fn all_pages(
    env: &common::TestEnv,
    base: &str,
    list: &str,
    query: &str,
    page_size: usize,
    token: &str,
) -> Vec<Value> {
    let bearer = format!("Bearer {token}");
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut path = format!("/v1/{list}?page_size={page_size}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let got = get(env, base, &path, Some(&bearer)).await;
        assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.json);
        let results = got.json["results"].as_array().unwrap().clone();
        assert!(results.len() <= page_size);
        let next = got.json["next"].as_str().map(str::to_string);
        if next.is_some() {
            assert_eq!(results.len(), page_size, "only the last page is short");
        }
        out.extend(results);
        match next {
            Some(n) => cursor = Some(n),
            None => return out,
        }
    }
    panic!("the pages never end");
}

/// By our id; a record served twice fails.
fn by_id(records: &[Value]) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for r in records {
        let id = r["id"].as_str().unwrap().to_string();
        assert!(
            map.insert(id.clone(), r.clone()).is_none(),
            "{id} served twice"
        );
    }
    map
}

fn remote_ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["remote_id"].as_str().unwrap().to_string())
        .collect()
}

/// A direct connection of `size` employees, linked and activated (activation queues a full run).
async fn active_connection(
    env: &common::TestEnv,
    who: &Identity,
    size: usize,
    evolve: bool,
) -> ConnectionView {
    let id = common::sync::linked(env, who, size, evolve).await;
    conn::activate(&env.state, who, &id).await.unwrap()
}

/// Executes the connection's queued run to its end (resuming as a worker would).
async fn run_pending(state: &AppState, c: &ConnectionView) -> SyncRunRecord {
    let run = state
        .db
        .pending_sync_run(&c.id)
        .await
        .unwrap()
        .expect("a queued run");
    for _ in 0..10 {
        match engine::execute(state, &run.id).await {
            engine::Executed::Finished(_) => break,
            engine::Executed::RetryAfter(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    state.db.sync_run(&run.id).await.unwrap().unwrap()
}

/// An organization with a synced directory of `size` people.
async fn synced(
    env: &common::TestEnv,
    org: &str,
    size: usize,
    evolve: bool,
) -> (Identity, ConnectionView) {
    let who = env.admin(org).await;
    let c = active_connection(env, &who, size, evolve).await;
    run_pending(&env.state, &c).await;
    (who, c)
}

async fn account_token(state: &AppState, who: &Identity, c: &ConnectionView) -> AccountToken {
    common::sync::token(state, who, c).await
}

async fn linked_account(state: &AppState, who: &Identity, c: &ConnectionView) -> String {
    common::sync::account_of(state, who, &c.id)
        .await
        .to_string()
}

fn all_of_merge() -> PageQuery {
    PageQuery {
        page_size: Some(100),
        include_deleted_data: true,
        ..PageQuery::default()
    }
}

// ---- the directory API ----

async fn a_synced_directory_is_served_page_by_page_with_no_duplicates_and_no_gaps(
    backend: Backend,
) {
    let env = SecEnv::start(backend).await;
    let base = env.serve().await;
    let e = &env.env;
    let (who, c) = synced(e, "org-api-1", 230, true).await;
    let token = directory_token(&who.org_id);

    // Everyone, in pages of 40: each of Merge's people exactly once, with Merge's facts.
    let everyone = all_pages(e, &base, "employees", "&include_inactive=true", 40, &token).await;
    let ours = by_id(&everyone);
    let account = account_token(&e.state, &who, &c).await;
    let merge = collect_pages(&all_of_merge(), |q| e.state.provider.employees(&account, q))
        .await
        .unwrap();
    assert_eq!(merge.len(), 230);
    let merge_by_remote: BTreeMap<String, _> = merge
        .iter()
        .map(|m| (m.remote_id.clone().unwrap_or(m.id.clone()), m))
        .collect();
    assert_eq!(
        remote_ids(&everyone),
        merge_by_remote.keys().cloned().collect()
    );
    for r in &everyone {
        let m = merge_by_remote[r["remote_id"].as_str().unwrap()];
        assert_eq!(r["first_name"].as_str(), m.first_name.as_deref(), "{r}");
        assert_eq!(r["last_name"].as_str(), m.last_name.as_deref(), "{r}");
        assert_eq!(r["work_email"].as_str(), m.work_email.as_deref(), "{r}");
        assert_eq!(
            r["employment_status"].as_str(),
            m.employment_status.as_ref().map(|s| s.as_str()),
            "{r}"
        );
        assert!(r["id"].as_str().unwrap() != m.id, "our ids, not Merge's");
        // Ours: a manager is one of the served people.
        if let Some(manager) = r["manager_id"].as_str() {
            assert!(ours.contains_key(manager), "{r}");
        }
        assert!(r["team_ids"].as_array().unwrap().len() <= 1);
        time::OffsetDateTime::parse(
            r["modified_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
    }
    assert!(everyone.iter().any(|r| !r["manager_id"].is_null()));
    // In (modified_at, id) order.
    let keys: Vec<(String, String)> = everyone
        .iter()
        .map(|r| {
            (
                r["modified_at"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // The default list is the active directory.
    let active = all_pages(e, &base, "employees", "", 100, &token).await;
    let (active_count, all_count) = e.state.db.employee_counts(&who.org_id).await.unwrap();
    assert_eq!(
        (active.len() as i64, everyone.len() as i64),
        (active_count, all_count)
    );
    assert!(active.iter().all(|r| r["active"] == json!(true)));
    // One page of all of them, at the largest page size.
    let one = get(
        e,
        &base,
        "/v1/employees?page_size=500&include_inactive=true",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(one.json["results"].as_array().unwrap().len(), 230);
    assert!(one.json["next"].is_null());

    // Teams and locations: Merge's, with our ids, referenced by the people.
    let teams = all_pages(e, &base, "teams", "&include_inactive=true", 3, &token).await;
    let merge_teams = collect_pages(&all_of_merge(), |q| e.state.provider.teams(&account, q))
        .await
        .unwrap();
    assert_eq!(
        remote_ids(&teams),
        merge_teams
            .iter()
            .map(|t| t.remote_id.clone().unwrap_or(t.id.clone()))
            .collect()
    );
    let teams = by_id(&teams);
    let locations = all_pages(e, &base, "locations", "&include_inactive=true", 2, &token).await;
    let merge_locations =
        collect_pages(&all_of_merge(), |q| e.state.provider.locations(&account, q))
            .await
            .unwrap();
    assert_eq!(
        remote_ids(&locations),
        merge_locations
            .iter()
            .map(|l| l.remote_id.clone().unwrap_or(l.id.clone()))
            .collect()
    );
    for l in &locations {
        let m = merge_locations
            .iter()
            .find(|m| m.remote_id.as_deref() == l["remote_id"].as_str())
            .unwrap();
        assert_eq!(l["city"].as_str(), m.city.as_deref());
        assert_eq!(l["country"].as_str(), m.country.as_deref());
    }
    let locations = by_id(&locations);
    let mut with_team = 0;
    let mut with_location = 0;
    for r in &everyone {
        for t in r["team_ids"].as_array().unwrap() {
            assert!(teams.contains_key(t.as_str().unwrap()), "{r}");
            with_team += 1;
        }
        if let Some(l) = r["location"].as_object() {
            let unit = &locations[l["id"].as_str().unwrap()];
            assert_eq!(l["name"], unit["name"], "{r}");
            with_location += 1;
        }
    }
    assert!(
        with_team > 0 && with_location > 0,
        "{with_team} {with_location}"
    );
    for t in teams.values() {
        if let Some(parent) = t["parent_id"].as_str() {
            assert!(teams.contains_key(parent));
        }
    }
    env.finish().await;
}

async fn modified_after_returns_only_later_changes_and_include_inactive_shows_leavers(
    backend: Backend,
) {
    let env = SecEnv::start(backend).await;
    let base = env.serve().await;
    let e = &env.env;
    // Frozen data: only the edits below change anyone.
    let (who, c) = synced(e, "org-api-2", 120, false).await;
    let token = directory_token(&who.org_id);
    let before = all_pages(e, &base, "employees", "&include_inactive=true", 100, &token).await;
    let last_seen = before
        .iter()
        .map(|r| r["modified_at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let since = format!("&include_inactive=true&modified_after={last_seen}");
    assert!(
        all_pages(e, &base, "employees", &since, 10, &token)
            .await
            .is_empty(),
        "nothing changed after the latest change"
    );

    // At the HR system: three leave, one is renamed.
    let account = linked_account(&e.state, &who, &c).await;
    let left = e
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{account}/leavers"),
            Some(json!({ "action": "terminate", "count": 3, "termination_date": "2020-01-01" })),
        )
        .await;
    let leavers: BTreeSet<String> = left["remote_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(leavers.len(), 3);
    let renamed = before
        .iter()
        .map(|r| r["remote_id"].as_str().unwrap().to_string())
        .find(|r| !leavers.contains(r))
        .unwrap();
    e.control(
        reqwest::Method::PATCH,
        &format!("/accounts/{account}/employees/{renamed}"),
        Some(json!({ "first_name": "Renamed" })),
    )
    .await;
    triggers::sync_now(&e.state, &who, &EN).await.unwrap();
    let run = run_pending(&e.state, &c).await;
    assert_eq!(run.counts.deactivated, 3, "{run:?}");

    // Only the later changes, at the time the host last saw.
    let changed = all_pages(e, &base, "employees", &since, 2, &token).await;
    let mut expected = leavers.clone();
    expected.insert(renamed.clone());
    assert_eq!(remote_ids(&changed), expected);
    assert!(changed
        .iter()
        .all(|r| r["modified_at"].as_str().unwrap() > last_seen.as_str()));
    let renamed_now = changed
        .iter()
        .find(|r| r["remote_id"] == json!(renamed))
        .unwrap();
    assert_eq!(renamed_now["first_name"], json!("Renamed"));
    // The leavers: out of the default list, in the full one as inactive with their date.
    let active_changes = all_pages(
        e,
        &base,
        "employees",
        &format!("&modified_after={last_seen}"),
        10,
        &token,
    )
    .await;
    assert_eq!(
        remote_ids(&active_changes),
        BTreeSet::from([renamed.clone()])
    );
    let active = remote_ids(&all_pages(e, &base, "employees", "", 500, &token).await);
    assert!(active.is_disjoint(&leavers));
    for r in changed.iter().filter(|r| r["remote_id"] != json!(renamed)) {
        assert_eq!(r["active"], json!(false), "{r}");
        assert_eq!(r["termination_date"], json!("2020-01-01"), "{r}");
    }
    // The whole list afterwards still has everyone once.
    let after = all_pages(e, &base, "employees", "&include_inactive=true", 7, &token).await;
    assert_eq!(by_id(&after).len(), before.len());
    env.finish().await;
}

async fn bad_tokens_are_refused_with_401_and_a_bearer_challenge(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let base = env.serve().await;
    let e = &env.env;
    let (who, _) = synced(e, "org-api-3", 20, false).await;
    let org = who.org_id.to_string();
    let good = directory_token(&org);
    // The same token reads again and again until it expires.
    for _ in 0..3 {
        let got = get(
            e,
            &base,
            "/v1/employees?include_inactive=true",
            Some(&format!("Bearer {good}")),
        )
        .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.json["results"].as_array().unwrap().len(), 20);
    }
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = directory_claims(&org);
        f(&mut c);
        format!("Bearer {}", sign_token(&c, HOST_SECRET.as_bytes()))
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("another scheme", Some(format!("Basic {good}"))),
        ("no token", Some("Bearer ".into())),
        ("garbage", Some("Bearer not-a-jwt".into())),
        (
            "wrong key",
            Some(format!(
                "Bearer {}",
                sign_token(
                    &directory_claims(&org),
                    b"another-secret-another-secret-0123456789"
                )
            )),
        ),
        (
            "expired",
            Some(with(&|c| {
                c["iat"] = json!(now() - 900);
                c["exp"] = json!(now() - 600);
            })),
        ),
        (
            "wrong issuer",
            Some(with(&|c| c["iss"] = json!("https://evil.test"))),
        ),
        (
            "wrong audience",
            Some(with(&|c| c["aud"] = json!("another-app"))),
        ),
        (
            "no read_directory",
            Some(with(&|c| c["permissions"] = json!(["manage_integrations"]))),
        ),
        (
            "no org_id",
            Some(with(&|c| {
                c.as_object_mut().unwrap().remove("org_id");
            })),
        ),
        (
            "a sign-in token",
            Some(format!(
                "Bearer {}",
                support::host_token(&org, "admin", &["manage_integrations"])
            )),
        ),
    ];
    for list in ["employees", "teams", "locations"] {
        for (case, auth) in &cases {
            // Bad parameters too: the token is checked first.
            let got = get(
                e,
                &base,
                &format!("/v1/{list}?page_size=0"),
                auth.as_deref(),
            )
            .await;
            assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{list}: {case}");
            let challenge = got.challenge.unwrap_or_default();
            assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
            assert_eq!(got.json["error"], json!("unauthorized"), "{case}");
            assert!(got.json.get("results").is_none(), "{case}");
        }
    }
    env.finish().await;
}

async fn a_token_of_another_organization_never_sees_its_people(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let base = env.serve().await;
    let e = &env.env;
    let (a_who, _) = synced(e, "org-api-a", 60, false).await;
    let (b_who, _) = synced(e, "org-api-b", 25, false).await;
    let a_token = directory_token(&a_who.org_id);
    let a = all_pages(e, &base, "employees", "&include_inactive=true", 7, &a_token).await;
    let b_token = directory_token(&b_who.org_id);
    let b = all_pages(e, &base, "employees", "&include_inactive=true", 7, &b_token).await;
    assert_eq!((a.len(), b.len()), (60, 25));
    let (a_ids, b_ids) = (by_id(&a), by_id(&b));
    assert!(a_ids.keys().all(|id| !b_ids.contains_key(id)));
    // A's cursor in B's hands moves through B's records only.
    let a_page = get(
        e,
        &base,
        "/v1/employees?page_size=5",
        Some(&format!("Bearer {}", a_token)),
    )
    .await;
    let cursor = a_page.json["next"].as_str().unwrap();
    let got = get(
        e,
        &base,
        &format!("/v1/employees?page_size=500&include_inactive=true&cursor={cursor}"),
        Some(&format!("Bearer {b_token}")),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    for r in got.json["results"].as_array().unwrap() {
        assert!(b_ids.contains_key(r["id"].as_str().unwrap()), "{r}");
    }
    // Units too; and an organization with no directory sees nothing.
    let a_teams = by_id(&all_pages(e, &base, "teams", "", 50, &a_token).await);
    let b_teams = by_id(&all_pages(e, &base, "teams", "", 50, &b_token).await);
    assert!(!a_teams.is_empty() && !b_teams.is_empty());
    assert!(a_teams.keys().all(|id| !b_teams.contains_key(id)));
    for list in ["employees", "teams", "locations"] {
        let nobody = all_pages(
            e,
            &base,
            list,
            "&include_inactive=true",
            50,
            &directory_token("org-api-c"),
        )
        .await;
        assert!(nobody.is_empty(), "{list}");
    }
    env.finish().await;
}

async fn page_size_and_cursor_are_checked(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let base = env.serve().await;
    let e = &env.env;
    let (who, _) = synced(e, "org-api-4", 12, false).await;
    let bearer = format!("Bearer {}", directory_token(&who.org_id));
    for (query, parameter) in [
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page_size=many", "page_size"),
        ("page_size=-5", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
        ("modified_after=yesterday", "modified_after"),
        ("include_inactive=maybe", "include_inactive"),
        ("limit=10", "query"),
    ] {
        for list in ["employees", "teams", "locations"] {
            let got = get(e, &base, &format!("/v1/{list}?{query}"), Some(&bearer)).await;
            assert_eq!(got.status, StatusCode::BAD_REQUEST, "{list}?{query}");
            assert_eq!(got.json["error"], json!("invalid_request"), "{query}");
            assert_eq!(got.json["parameter"], json!(parameter), "{query}");
            assert!(!got.json["message"].as_str().unwrap().is_empty());
        }
    }
    let got = get(e, &base, "/v1/employees?page_size=0", Some(&bearer)).await;
    assert!(got.json["message"].as_str().unwrap().contains("1 to 500"));
    // Default 100 (all 12 here); 1 and 500 are accepted.
    let got = get(
        e,
        &base,
        "/v1/employees?include_inactive=true",
        Some(&bearer),
    )
    .await;
    assert_eq!(got.json["results"].as_array().unwrap().len(), 12);
    let one = get(
        e,
        &base,
        "/v1/employees?page_size=1&include_inactive=true",
        Some(&bearer),
    )
    .await;
    assert_eq!(one.json["results"].as_array().unwrap().len(), 1);
    let cursor = one.json["next"].as_str().unwrap().to_string();
    assert_eq!(
        get(e, &base, "/v1/employees?page_size=500", Some(&bearer))
            .await
            .status,
        StatusCode::OK
    );
    // An employees cursor is not a teams cursor.
    let got = get(
        e,
        &base,
        &format!("/v1/teams?cursor={cursor}"),
        Some(&bearer),
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(got.json["parameter"], json!("cursor"));
    let got = get(
        e,
        &base,
        &format!("/v1/employees?cursor={cursor}&page_size=500&include_inactive=true"),
        Some(&bearer),
    )
    .await;
    assert_eq!(got.json["results"].as_array().unwrap().len(), 11);
    env.finish().await;
}

/// Without a host-token key the API is off: 404, whatever the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_host_token_key_the_api_is_not_there() {
    let env = common::TestEnv::start().await;
    assert!(env.state.host_tokens.is_none());
    let served = support::serve_router(
        server::router::app(env.state.clone()),
        server::startup::ConnectionLimits::default(),
    )
    .await;
    for list in ["employees", "teams", "locations"] {
        let got = get(
            &env,
            &served.base,
            &format!("/v1/{list}"),
            Some(&format!("Bearer {}", directory_token("org-x"))),
        )
        .await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{list}");
        assert_eq!(got.json["error"], json!("not_found"));
    }
    served.stop().await.unwrap();
}

// ---- the directory.changed webhook ----

/// A receiver of the host's on a free port: answers with the statuses in `script` in turn (200
/// once they run out) and keeps what it got.
/// A delivery as received: the signature header and the raw body.
type Delivery = (Option<String>, String);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Delivery>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> (Receiver, String) {
        let r = Receiver {
            script: Arc::new(Mutex::new(script.iter().rev().copied().collect())),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .route(
                "/hooks/hris",
                axum::routing::post(
                    |axum::extract::State(r): axum::extract::State<Receiver>,
                     headers: axum::http::HeaderMap,
                     body: String| async move {
                        let signature = headers
                            .get(notify::SIGNATURE_HEADER)
                            .map(|v| v.to_str().unwrap().to_string());
                        r.got.lock().unwrap().push((signature, body));
                        let status = r.script.lock().unwrap().pop().unwrap_or(200);
                        StatusCode::from_u16(status).unwrap()
                    },
                ),
            )
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/hris", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Waits (bounded; the wait itself is not asserted) until `n` deliveries arrived.
    async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..300 {
            if self.count() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.got.lock().unwrap().clone()
    }
}

const HOOK_SECRET: &str = "host-hook-secret-0123456789abcdef";

/// The receiver's check of a delivery: base64url HMAC-SHA256 of the raw body under the secret.
fn signature_ok(signature: Option<&str>, body: &str) -> bool {
    use base64::Engine;
    let Some(sig) = signature else { return false };
    let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

fn with_hook(state: &AppState, url: &str) -> AppState {
    let mut state = state.clone();
    let mut settings = (*state.settings).clone();
    settings.sync.host_webhook = Some(HostWebhook {
        url: url.to_string(),
        secret: HOOK_SECRET.into(),
    });
    state.settings = Arc::new(settings);
    state
}

async fn directory_changed_reaches_the_host_signed_with_the_runs_counts(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let e = &env.env;
    let (receiver, url) = Receiver::start(&[]).await;
    let state = with_hook(&e.state, &url);
    let who = e.admin("org-hook-1").await;
    let c = active_connection(e, &who, 40, false).await;
    let run = run_pending(&state, &c).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "one event for the run");
    let (signature, body) = &got[0];
    assert!(signature_ok(signature.as_deref(), body), "signed");
    assert!(
        !signature_ok(
            signature.as_deref(),
            &body.replace("org-hook-1", "org-hook-2")
        ),
        "the body is signed"
    );
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["hook"]["event"], json!("directory.changed"));
    assert_eq!(
        event["data"]["organization_id"],
        json!(who.org_id.to_string())
    );
    assert_eq!(event["data"]["sync_run_id"], json!(run.id.to_string()));
    assert_eq!(event["data"]["counts"]["added"], json!(run.counts.added));
    assert!(run.counts.added >= 40);
    assert_eq!(event["data"]["counts"]["deactivated"], json!(0));

    // A receiver that fails twice with 500 gets the same event a third time, and takes it.
    let (flaky, url) = Receiver::start(&[500, 500]).await;
    let state = with_hook(&e.state, &url);
    let account = linked_account(&state, &who, &c).await;
    e.control(
        reqwest::Method::POST,
        &format!("/accounts/{account}/leavers"),
        Some(json!({ "action": "terminate", "count": 2, "termination_date": "2020-01-01" })),
    )
    .await;
    triggers::sync_now(&state, &who, &EN).await.unwrap();
    let run = run_pending(&state, &c).await;
    let got = flaky.wait_for(3).await;
    assert_eq!(got.len(), 3, "two retries after two 500s");
    assert!(got.iter().all(|g| g == &got[0]), "the same event each time");
    assert!(signature_ok(got[0].0.as_deref(), &got[0].1));
    let event: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(event["data"]["counts"]["deactivated"], json!(2));
    assert_eq!(event["data"]["sync_run_id"], json!(run.id.to_string()));
    env.finish().await;
}

/// The delivery's retries, awaited: a 500 is retried twice (three tries), a 4xx not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_twice_and_a_4xx_is_not() {
    let hook = |url: String| HostWebhook {
        url,
        secret: HOOK_SECRET.into(),
    };
    let (down, url) = Receiver::start(&[500, 500, 500, 500]).await;
    let sent = notify::deliver(
        &hook(url),
        r#"{"hook":{"event":"directory.changed"}}"#.into(),
    )
    .await;
    assert!(sent.is_err());
    assert_eq!(down.count(), 3, "the first try and two retries");
    for status in [400, 401, 404, 410] {
        let (refusing, url) = Receiver::start(&[status]).await;
        let sent = notify::deliver(&hook(url), "{}".into()).await;
        assert!(sent.is_err(), "{status}");
        assert_eq!(refusing.count(), 1, "{status} is not retried");
    }
    let (ok, url) = Receiver::start(&[503]).await;
    assert!(notify::deliver(&hook(url), "{}".into()).await.is_ok());
    assert_eq!(ok.count(), 2);
    let got = ok.got.lock().unwrap().clone();
    assert!(signature_ok(got[1].0.as_deref(), &got[1].1));
}
