//! The HTTP surface without a browser: operations endpoints, sessions and permission checks on
//! server functions, driven through the real router (`tower::ServiceExt::oneshot`).

mod common;
mod support;

use axum::http::StatusCode;
use support::{Backend, SecEnv};

async fn test_app() -> SecEnv {
    SecEnv::start(Backend::Sqlite).await
}

/// Signs in as a demo user of their own organization; returns the `name=value` cookie pair.
async fn sign_in(app: &SecEnv, user: &str) -> String {
    let res = app
        .post("/api/session/dev_sign_in", &format!("user_id={user}"), None)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    res.cookie()
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = test_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
    let res = app.get("/readyz", None).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ready"));
}

#[tokio::test]
async fn the_session_cookie_survives_cross_site_iframes_and_hides_from_scripts() {
    let app = test_app().await;
    let (status, headers, _) = app
        .post("/api/session/dev_sign_in", "user_id=alice", None)
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    let cookie = &headers["set-cookie"];
    for attr in [
        "hris_session=",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
        "Path=/",
    ] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
}

#[tokio::test]
async fn server_functions_check_session_and_permission() {
    let app = test_app().await;
    let (s, _, body) = app
        .post("/api/hris/set_enabled", "enabled=true", None)
        .await
        .parts();
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("Unauthenticated"));

    let bob = sign_in(&app, "bob").await;
    let (s, _, body) = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&bob))
        .await
        .parts();
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _, _) = app.post("/api/hris/settings", "", Some(&bob)).await.parts();
    assert_eq!(s, StatusCode::FORBIDDEN);

    let alice = sign_in(&app, "alice").await;
    let (s, _, body) = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&alice))
        .await
        .parts();
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains(r#""enabled":true"#), "{body}");

    // Another organization's admin sees their own organization's switch, untouched.
    let gina = sign_in(&app, "gina").await;
    let (s, _, body) = app
        .post("/api/hris/settings", "", Some(&gina))
        .await
        .parts();
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(r#""enabled":false"#) && body.contains("Globex"),
        "{body}"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = test_app().await;
    let alice = sign_in(&app, "alice").await;
    let (s, headers, _) = app
        .post("/api/session/sign_out", "", Some(&alice))
        .await
        .parts();
    assert_eq!(s, StatusCode::OK);
    assert!(headers["set-cookie"].contains("Max-Age=0"));
    let (s, _, _) = app
        .post("/api/hris/settings", "", Some(&alice))
        .await
        .parts();
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the old cookie no longer works"
    );
}

#[tokio::test]
async fn unknown_demo_users_and_junk_are_client_errors() {
    let app = test_app().await;
    let (s, _, body) = app
        .post("/api/session/dev_sign_in", "user_id=mallory", None)
        .await
        .parts();
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let alice = sign_in(&app, "alice").await;
    let (s, _, body) = app
        .post("/api/hris/set_enabled", "enabled=maybe", Some(&alice))
        .await
        .parts();
    assert!(s.is_client_error(), "{s} {body}");
}

#[tokio::test]
async fn pages_render_on_the_server() {
    let app = test_app().await;
    let alice = sign_in(&app, "alice").await;
    let (s, _, body) = app
        .get("/admin/integrations/hris", Some(&alice))
        .await
        .parts();
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("HRIS Integration") && body.contains(r#"role="switch""#),
        "{body}"
    );
    // The stylesheet (the one thing that blocks the first paint) is asked for before the wasm.
    let css = body.find(r#"rel="stylesheet" href="/pkg/hris-connect.css""#);
    assert!(
        css.is_some() && css < body.find("/pkg/hris-connect.wasm"),
        "{body}"
    );
    let s = app.get("/no-such-page", None).await.status;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Counts the SQL statements that read the sessions table (sqlx reports each statement as a
/// `sqlx::query` tracing event with the statement in `db.statement`).
#[derive(Clone, Default)]
struct SessionReads(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SessionReads {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Statement(bool);
        impl tracing::field::Visit for Statement {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "db.statement" {
                    self.0 |= format!("{value:?}").contains("FROM sessions");
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "db.statement" {
                    self.0 |= value.contains("FROM sessions");
                }
            }
        }
        if event.metadata().target() == "sqlx::query" {
            let mut statement = Statement(false);
            event.record(&mut statement);
            if statement.0 {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

/// The identity layer resolves the session once per request: a page render and a server-function
/// call each read the sessions table exactly once, however many server functions the page loads.
/// (PostgreSQL: its driver reports statements on the calling task, where the test's subscriber is.)
#[tokio::test]
async fn the_session_is_looked_up_once_per_request() {
    use tracing_subscriber::layer::SubscriberExt;
    let app = SecEnv::start(Backend::Postgres).await;
    let cookie = app.dev_sign_in("alice", "Once Per Request").await;
    let enabled = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&cookie))
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
    let reads = SessionReads::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(reads.clone()));

    let page = app.get("/admin/integrations/hris", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Connect directly"), "a full render");
    assert_eq!(reads.0.swap(0, Ordering::SeqCst), 1, "one page render");

    let list = app.post("/api/connections/list", "", Some(&cookie)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(reads.0.swap(0, Ordering::SeqCst), 1, "one server function");
    drop(_guard);
    app.finish().await;
}

/// The built files as production serves them: a content-addressed name (the MD5 of the bytes, as
/// cargo-leptos' `hash-files` makes it) is cached for a year; a precompressed sibling is sent when
/// the client accepts its encoding, else the file itself; other files under `/pkg/` revalidate.
#[tokio::test]
async fn hashed_assets_are_immutable_and_served_precompressed() {
    use axum::{body::Body, http::Request};
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use md5::{Digest, Md5};
    use tower::ServiceExt;

    let root = std::env::temp_dir().join(format!("hris-site-{}", uuid::Uuid::new_v4()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: &[u8] = b"\0asm\x01\0\0\0 the app";
    let name = format!(
        "hris-connect.{}.wasm",
        URL_SAFE_NO_PAD.encode(Md5::digest(wasm))
    );
    std::fs::write(pkg.join(&name), wasm).unwrap();
    std::fs::write(pkg.join(format!("{name}.br")), b"brotli bytes").unwrap();
    // Named like a hashed file, but the name is not the MD5 of these bytes (rewritten after naming).
    let stale = format!(
        "hris-connect.{}.js",
        URL_SAFE_NO_PAD.encode(Md5::digest(b"before"))
    );
    std::fs::write(pkg.join(&stale), b"after").unwrap();
    let env =
        common::TestEnv::start_with(&[("LEPTOS_SITE_ROOT", root.display().to_string())]).await;
    let router = server::router::app(env.state.clone());
    let get = |path: String, accept: Option<&'static str>| {
        let router = router.clone();
        async move {
            let mut req = Request::builder().uri(path);
            if let Some(a) = accept {
                req = req.header("accept-encoding", a);
            }
            let res = router
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let header = |h: &str| {
                res.headers()
                    .get(h)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            let (status, cache, encoding) = (
                res.status(),
                header("cache-control"),
                header("content-encoding"),
            );
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, cache, encoding, body.to_vec())
        }
    };
    let immutable = Some("public, max-age=31536000, immutable".to_string());

    let (status, cache, encoding, body) =
        get(format!("/pkg/{name}"), Some("gzip, deflate, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache, immutable);
    assert_eq!(encoding.as_deref(), Some("br"));
    assert_eq!(body, b"brotli bytes");

    // No `.gz` sibling: a gzip-only client gets the file as it is; so does one accepting nothing.
    for accept in [Some("gzip"), None] {
        let (status, cache, encoding, body) = get(format!("/pkg/{name}"), accept).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(cache, immutable, "{accept:?}");
        assert_eq!(encoding, None, "{accept:?}");
        assert_eq!(body, wasm, "{accept:?}");
    }

    let (status, cache, _, body) = get(format!("/pkg/{stale}"), Some("br")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"after"[..]));
    assert_eq!(cache.as_deref(), Some("no-cache"));

    let (status, cache, _, _) = get("/pkg/missing.wasm".into(), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(cache, None);
    drop(env);
    std::fs::remove_dir_all(root).unwrap();
}
