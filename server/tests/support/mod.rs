//! Helpers of the security tests (issue 6): a test environment on SQLite or PostgreSQL, host
//! tokens, and an HTTP client over the real router that keeps every response body.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
    Router,
};
use jsonwebtoken::{encode, EncodingKey, Header};
use tower::ServiceExt;

use app::storage::with_database;

use crate::common::TestEnv;

pub const HOST_SECRET: &str = "test-host-secret-0123456789abcdef-0123456789";
pub const HOST_ISSUER: &str = "https://shell.test";
pub const HOST_AUDIENCE: &str = "hris-connect";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test environment with host tokens enabled, on SQLite (a temp file) or PostgreSQL (a fresh
/// database at `TEST_DATABASE_URL`, dropped by `finish`).
pub struct SecEnv {
    pub env: TestEnv,
    pub router: Router,
    pub responses: Arc<Mutex<Vec<String>>>,
    pg: Option<(String, String)>,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl SecEnv {
    pub async fn start(backend: Backend) -> SecEnv {
        Self::start_with(backend, &[]).await
    }

    /// Like `start`, with more configuration variables.
    pub async fn start_with(backend: Backend, more: &[(&str, String)]) -> SecEnv {
        let mut extra = vec![
            ("HRIS_HOST_TOKEN_SECRET", HOST_SECRET.to_string()),
            ("HRIS_HOST_TOKEN_ISSUER", HOST_ISSUER.to_string()),
            (
                "HRIS_ALLOWED_HOST_ORIGINS",
                "https://shell.test".to_string(),
            ),
        ];
        let mut pg = None;
        if backend == Backend::Postgres {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let admin = admin_url();
            let name = format!("hris_sec_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("PostgreSQL at TEST_DATABASE_URL must be reachable");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            extra.push(("DATABASE_URL", with_database(&admin, &name)));
            pg = Some((admin, name));
        }
        extra.extend(more.iter().cloned());
        let env = TestEnv::start_with(&extra).await;
        let router = server::router::app(env.state.clone());
        SecEnv {
            env,
            router,
            responses: Arc::default(),
            pg,
        }
    }

    pub async fn finish(self) {
        self.env.state.db.close().await;
        if let Some((admin, name)) = self.pg {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }

    pub fn database_url(&self) -> Option<String> {
        self.pg.as_ref().map(|(a, n)| with_database(a, n))
    }

    /// Serves the router over real TCP on a free port as the server does, for the rest of the
    /// test; returns its base URL (`http://127.0.0.1:<port>`).
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = self.router.clone();
        tokio::spawn(server::startup::serve_http(
            listener,
            router,
            server::startup::ConnectionLimits::default(),
            std::future::pending(),
        ));
        base
    }

    /// Sends a request through the router; keeps the response body.
    pub async fn send(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let body = axum::body::to_bytes(res.into_body(), 4 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body).into_owned();
        self.responses.lock().unwrap().push(body.clone());
        Res {
            status,
            headers,
            body,
        }
    }

    /// A form post, as the Leptos client sends server-function calls.
    pub async fn post(&self, path: &str, form: &str, cookie: Option<&str>) -> Res {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(form.to_string())).unwrap())
            .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Res {
        let mut req = Request::builder().method(Method::GET).uri(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Dev sign-in of a demo user into a demo organization; returns the cookie pair.
    pub async fn dev_sign_in(&self, user: &str, org: &str) -> String {
        let res = self
            .post(
                "/api/session/dev_sign_in",
                &form(&[("user_id", user), ("organization", org)]),
                None,
            )
            .await;
        assert!(
            res.status.is_success() || res.status.is_redirection(),
            "{res:?}"
        );
        res.cookie()
    }

    /// Host sign-in with a token carrying `permissions`; returns the cookie pair.
    pub async fn host_sign_in(&self, org_id: &str, user: &str, permissions: &[&str]) -> String {
        let token = host_token(org_id, user, permissions);
        let res = self
            .post(
                "/api/session/host_sign_in",
                &form(&[("token", &token)]),
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        res.cookie()
    }
}

#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Res {
    /// Status, headers and body, for destructuring.
    pub fn parts(self) -> (StatusCode, HashMap<String, String>, String) {
        (self.status, self.headers, self.body)
    }

    pub fn cookie(&self) -> String {
        self.headers["set-cookie"]
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub fn now() -> i64 {
    app::storage::now_ms() / 1000
}

/// A host token as the admin shell issues it (HS256, 5 minutes, a unique `jti`).
pub fn host_token(org_id: &str, user: &str, permissions: &[&str]) -> String {
    let claims = serde_json::json!({
        "iss": HOST_ISSUER, "aud": HOST_AUDIENCE, "sub": user, "name": format!("User {user}"),
        "org_id": org_id, "org_name": format!("Org {org_id}"), "locale": "en",
        "permissions": permissions, "iat": now(), "exp": now() + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(HOST_SECRET.as_bytes()),
    )
    .unwrap()
}

/// Every server function the app registers (path, method), from the app itself.
pub fn server_functions() -> Vec<(String, Method)> {
    let mut all: Vec<(String, Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, m)| (p.to_string(), m))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(all.len() > 10, "server functions are registered: {all:?}");
    all
}

/// Runs a test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case($crate::support::Backend::Sqlite).await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case($crate::support::Backend::Postgres).await;
            })+
        }
    };
}

/// A server started by `serve_router`: its address, and a way to stop it.
pub struct Served {
    pub addr: std::net::SocketAddr,
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `router` with `limits` over real TCP on a free port, as the server does.
pub async fn serve_router(router: Router, limits: server::startup::ConnectionLimits) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::startup::serve_http(
        listener,
        router,
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    Served {
        addr,
        base: format!("http://{addr}"),
        stop,
        task,
    }
}

impl Served {
    /// Signals shutdown (as SIGTERM does) and waits until the server has stopped.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}
