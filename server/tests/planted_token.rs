//! The planted-token search (issue 6): a known account token goes through every flow (direct
//! connection, magic link via the signed webhook, manual entry, desk replacement, tests, toggles,
//! pages), then the database, every response body and the captured logs are searched for it.
//!
//! Its own test binary, so the captured logs are this test's only.

mod common;
mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use reqwest::Method;
use serde_json::{json, Value};
use support::{form, host_token, Backend, SecEnv};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED.get_or_init(install_capture).clone()
}

fn install_capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        // Everything the app and its libraries log, at every level. The sandbox stands in for Merge
        // (it holds the tokens by design), so its own lines are not ours to search.
        .with_env_filter("trace,merge_sandbox=off,hyper=debug,h2=debug,reqwest=debug,rustls=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    captured
}

struct Http {
    base: String,
    client: reqwest::Client,
    bodies: Vec<(String, String)>,
}

impl Http {
    async fn call(&mut self, path: &str, form_body: String, cookie: &str) -> (u16, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(form_body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = format!("{:?}", res.headers());
        let body = res.text().await.unwrap();
        self.bodies
            .push((path.to_string(), format!("{headers}\n{body}")));
        (status, body)
    }

    async fn page(&mut self, path: &str, cookie: &str) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let headers = format!("{:?}", res.headers());
        let body = res.text().await.unwrap();
        self.bodies
            .push((path.to_string(), format!("{headers}\n{body}")));
    }

    async fn ok(&mut self, path: &str, pairs: &[(&str, &str)], cookie: &str) -> Value {
        let (status, body) = self.call(path, form(pairs), cookie).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }
}

on_both_backends!(a_planted_token_appears_nowhere_in_plain_text);

async fn a_planted_token_appears_nowhere_in_plain_text(backend: Backend) {
    let logs = capture_logs();
    let app = SecEnv::start(backend).await;
    let env = &app.env;
    // Serve the real router, and point the sandbox's signed webhooks at it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::router::app(env.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    env.control(
        Method::PUT,
        "/webhook",
        Some(json!({"url": format!("{base}/webhooks/merge"), "signing_key": env.state.settings.webhook_keys[0]})),
    )
    .await;
    let mut http = Http {
        base,
        client: common::test_client(false),
        bodies: vec![],
    };
    let sign_in = |perms: &'static [&'static str], user: &'static str| {
        let token = host_token("plant-org", user, perms);
        async move { token }
    };
    let admin_token = sign_in(&["manage_integrations"], "admin").await;
    let desk_token = sign_in(&["service_desk"], "desk").await;
    // Cookies: sign in through the served app and keep the cookie.
    let cookie_of = |client: reqwest::Client, base: String, token: String| async move {
        let res = client
            .post(format!("{base}/api/session/host_sign_in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", &token)]))
            .send()
            .await
            .unwrap();
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let admin = cookie_of(http.client.clone(), http.base.clone(), admin_token).await;
    let desk = cookie_of(http.client.clone(), http.base.clone(), desk_token).await;
    http.ok("/api/hris/set_enabled", &[("enabled", "true")], &admin)
        .await;

    // 1. Connect directly: Link, exchange, test, activate, relink, deactivate.
    let session = http
        .ok(
            "/api/connections/start",
            &[("slug", "personio"), ("name", "Planted HR")],
            &admin,
        )
        .await;
    let conn_id = session["connection_id"].as_str().unwrap().to_string();
    let public_token = env
        .complete_link(
            session["link_token"].as_str().unwrap(),
            json!({"integration": "personio"}),
        )
        .await;
    http.ok(
        "/api/connections/finish_link",
        &[("id", &conn_id), ("public_token", &public_token)],
        &admin,
    )
    .await;
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    let direct = accounts.as_array().unwrap().last().unwrap().clone();
    let planted = direct["account_token"].as_str().unwrap().to_string();
    assert!(planted.len() >= 16, "a real token: {planted}");
    for f in [
        "/api/connections/test",
        "/api/connections/activate",
        "/api/connections/link_again",
        "/api/connections/deactivate",
    ] {
        http.ok(f, &[("id", &conn_id)], &admin).await;
    }
    http.ok("/api/connections/list", &[], &admin).await;
    http.page("/admin/integrations/hris", &admin).await;

    // 2. A magic link: the customer connects, the signed webhook brings the token in.
    let link = http
        .ok(
            "/api/desk/issue_magic_link",
            &[("org_id", "plant-org"), ("slug", "bamboohr")],
            &desk,
        )
        .await;
    let link_id = link["id"].as_str().unwrap().to_string();
    let url = link["url"].as_str().unwrap().to_string();
    env.complete_magic_link(&url, "bamboohr").await;
    let mut magic_token = None;
    for _ in 0..100 {
        let links = http
            .ok("/api/desk/magic_links", &[("org_id", "plant-org")], &desk)
            .await;
        if links[0]["token_available"] == true {
            let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
            magic_token = accounts.as_array().unwrap().last().unwrap()["account_token"]
                .as_str()
                .map(str::to_string);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let magic_token = magic_token.expect("the webhook delivered the magic link's token");
    let magic_account = env.control(Method::GET, "/accounts", None).await["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The desk reveals it for handover (by design: the one response that carries a token).
    let (status, revealed) = http
        .call(
            "/api/desk/reveal_token",
            form(&[("org_id", "plant-org"), ("id", &link_id)]),
            &desk,
        )
        .await;
    assert_eq!(status, 200);
    assert!(revealed.contains(&magic_token));
    http.bodies.pop();

    // 3. The admin enters it as a manual connection; the desk replaces it (same account).
    let manual = http
        .ok(
            "/api/connections/add_manual",
            &[
                ("name", "Planted manual"),
                ("account_id", &magic_account),
                ("token", &magic_token),
            ],
            &admin,
        )
        .await;
    let manual_id = manual["id"].as_str().unwrap().to_string();
    http.ok(
        "/api/desk/replace_token",
        &[
            ("org_id", "plant-org"),
            ("id", &manual_id),
            ("token", &magic_token),
        ],
        &desk,
    )
    .await;
    http.ok("/api/desk/connections", &[("org_id", "plant-org")], &desk)
        .await;
    http.ok("/api/connections/test", &[("id", &manual_id)], &admin)
        .await;
    // Wrong entries echo nothing back either.
    let wrong = format!("{planted}-wrong");
    let (status, _) = http
        .call(
            "/api/connections/add_manual",
            form(&[
                ("name", "Wrong"),
                ("account_id", &magic_account),
                ("token", &wrong),
            ]),
            &admin,
        )
        .await;
    assert!((400..500).contains(&status));
    http.page("/admin/integrations/hris", &admin).await;
    http.page("/desk", &desk).await;
    http.ok("/api/session/sign_out", &[], &admin).await;

    // The search.
    let mut hits = vec![];
    for token in [&planted, &magic_token, &wrong] {
        for (path, body) in &http.bodies {
            if body.contains(token.as_str()) {
                hits.push(format!("response of {path}"));
            }
        }
    }
    // Let pending log lines and the database settle, then read the file(s).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let db_bytes = match backend {
        Backend::Sqlite => {
            let mut bytes = vec![];
            for entry in std::fs::read_dir(app.env.data_dir()).unwrap() {
                let path = entry.unwrap().path();
                // hris.db, and its -wal / -shm files if any.
                if path.to_string_lossy().contains("hris.db") {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            bytes
        }
        Backend::Postgres => postgres_dump(&app.database_url().unwrap())
            .await
            .into_bytes(),
    };
    assert!(db_bytes.len() > 2_000, "the database was read");
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("host sign-in") && logs.contains("webhook handled"),
        "logs were captured"
    );
    for token in [&planted, &magic_token, &wrong] {
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        if find(&db_bytes, token.as_bytes()) || find(&db_bytes, hex.as_bytes()) {
            hits.push("database".into());
        }
        if logs.contains(token.as_str()) {
            let line = logs.lines().find(|l| l.contains(token.as_str())).unwrap();
            hits.push(format!(
                "log line: {}",
                line.replace(token.as_str(), "<TOKEN>")
            ));
        }
    }
    assert!(hits.is_empty(), "plaintext token found in: {hits:#?}");
    assert!(
        http.bodies.len() >= 15,
        "every flow answered: {}",
        http.bodies.len()
    );
    app.finish().await;
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every row of every table, as text (bytea columns as hex).
async fn postgres_dump(url: &str) -> String {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(tables.iter().any(|t| t == "connections"));
    let mut out = String::new();
    for t in tables {
        for row in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(t AS TEXT) FROM {t} t"
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            out.push_str(&row.get::<String, _>(0));
            out.push('\n');
        }
    }
    out
}
