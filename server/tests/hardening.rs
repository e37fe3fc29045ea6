//! Hardening (issue 6) through the real router: junk input to every server function, security
//! headers, the cross-site guard, host-token sign-in and the webhook receiver.

mod common;
mod support;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use serde_json::json;
use server::startup::ConnectionLimits;
use support::{form, host_token, serve_router, server_functions, Backend, SecEnv};

const FIELDS: &[&str] = &[
    "id",
    "org_id",
    "slug",
    "name",
    "public_token",
    "account_id",
    "token",
    "enabled",
    "user_id",
    "organization",
    "return_to",
    "page",
    "apply",
    "search",
    "filter",
    "after",
    "locale",
];

/// Junk bodies: each a (content type, body) pair.
fn junk() -> Vec<(&'static str, String)> {
    let odd = [
        "",
        " ",
        "\u{202E}gnp.exe\u{200B}\u{FEFF}",
        "😀👨‍👩‍👧‍👦",
        "Ω≈ç√∫˜µ≤≥÷ 社會科學院語學研究所 ﷽",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "%00",
        "a\u{0}b",
        "true",
        "-1",
        "99999999999999999999999",
    ];
    let mut out = vec![
        ("application/x-www-form-urlencoded", String::new()),
        ("application/x-www-form-urlencoded", "%".into()),
        ("application/x-www-form-urlencoded", "=&=&&".into()),
        (
            "application/x-www-form-urlencoded",
            "id=%FF%FE&name=%ED%A0%80".into(),
        ),
        (
            "application/x-www-form-urlencoded",
            "id=1&id=2&org_id=1&org_id=2".into(),
        ),
        (
            "application/x-www-form-urlencoded",
            "enabled=maybe&id[]=1&org_id[x]=2".into(),
        ),
        ("application/json", r#"{"id": 1, "enabled": "yes"}"#.into()),
        ("text/plain", "hello".into()),
        ("", "id=1".into()),
    ];
    for v in odd {
        let pairs: Vec<(&str, &str)> = FIELDS.iter().map(|f| (*f, v)).collect();
        out.push(("application/x-www-form-urlencoded", form(&pairs)));
    }
    for f in FIELDS {
        let big = "x".repeat(100_000);
        out.push((
            "application/x-www-form-urlencoded",
            form(&[(f, big.as_str())]),
        ));
    }
    out.push((
        "application/x-www-form-urlencoded",
        format!("name={}", "y".repeat(400_000)),
    ));
    out
}

on_both_backends!(
    junk_input_answers_4xx_with_a_message_never_5xx,
    every_body_is_checked_whatever_its_content_type,
    webhooks_that_can_never_be_handled_answer_200_not_503,
    webhooks_are_verified_deduplicated_and_handled,
);

async fn junk_input_answers_4xx_with_a_message_never_5xx(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let all = app
        .host_sign_in("junk-org", "junk", &["manage_integrations", "service_desk"])
        .await;
    let res = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&all))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let junk = junk();
    for (path, _) in server_functions() {
        for (ct, body) in &junk {
            // Junk to sign_out ends the session: every call gets a live one.
            let all = app
                .host_sign_in("junk-org", "junk", &["manage_integrations", "service_desk"])
                .await;
            let mut req = Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header(header::COOKIE, &all);
            if !ct.is_empty() {
                req = req.header(header::CONTENT_TYPE, *ct);
            }
            let res = app.send(req.body(Body::from(body.clone())).unwrap()).await;
            let shown: String = body.chars().take(80).collect();
            assert!(
                !res.status.is_server_error(),
                "{path} {ct} {shown:?}: {} {}",
                res.status,
                res.body.chars().take(300).collect::<String>()
            );
            if res.status.is_client_error() {
                assert!(
                    res.body.trim().len() > 2,
                    "{path} {shown:?}: a 4xx carries a message"
                );
            }
        }
        // Other methods.
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let req = Request::builder()
                .method(method.clone())
                .uri(format!("{path}?id=%00&x={}", "z".repeat(10_000)))
                .header(header::COOKIE, &all)
                .body(Body::empty())
                .unwrap();
            let res = app.send(req).await;
            assert!(
                res.status.is_client_error(),
                "{method} {path}: {}",
                res.status
            );
        }
    }
    app.finish().await;
}

/// Server functions read any body as a form, so the field rules hold whatever the declared type.
async fn every_body_is_checked_whatever_its_content_type(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let client = common::test_client(false);
    let desk = app.host_sign_in("ct-org", "desk", &["service_desk"]).await;
    let post = |path: &str, ct: Option<&str>, body: String, cookie: Option<&str>| {
        let mut req = client.post(format!("{base}{path}")).body(body);
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let id_limit = app::input::ID_LIMIT;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/json"),
        Some("application/octet-stream"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (s, body) = post(
            "/api/session/dev_sign_in",
            ct,
            "user_id=alice&organization=Nul%00Org".into(),
            None,
        )
        .await;
        assert_eq!(s, 400, "{ct:?}: {body}");
        assert!(body.contains("control characters"), "{ct:?}: {body}");
        for (id, what) in [
            ("%00".to_string(), "a NUL"),
            ("a%0Ab".to_string(), "a line break in an id"),
            ("x".repeat(200_000), "a 200 KB id"),
            ("x".repeat(id_limit + 1), "an id one over the limit"),
        ] {
            let (s, body) = post(
                "/api/desk/revoke_magic_link",
                ct,
                format!("org_id=ct-org&id={id}"),
                Some(&desk),
            )
            .await;
            assert_eq!(s, 400, "{ct:?} {what}: {body}");
        }
        // An id at the limit is read, and found missing.
        let (s, body) = post(
            "/api/desk/revoke_magic_link",
            ct,
            format!("org_id=ct-org&id={}", "x".repeat(id_limit)),
            Some(&desk),
        )
        .await;
        assert_eq!(s, 404, "{ct:?}: {body}");
    }
    // Nothing with a control character was stored.
    let names: Vec<String> = app
        .env
        .state
        .db
        .organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert!(
        names.iter().all(|n| !n.chars().any(char::is_control)),
        "{names:?}"
    );
    app.finish().await;
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_pages_carry_the_nonce() {
    let app = SecEnv::start(Backend::Sqlite).await;
    let cookie = app.dev_sign_in("alice", "Headers Org").await;
    for (path, cookie) in [
        ("/admin/integrations/hris", Some(cookie.as_str())),
        ("/signin", None),
        ("/no-such-page", None),
        ("/healthz", None),
    ] {
        let res = app.get(path, cookie).await;
        let csp = &res.headers["content-security-policy"];
        assert_eq!(res.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            res.headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert!(
            csp.contains("frame-ancestors 'self' https://shell.test;"),
            "{csp}"
        );
        let sandbox = app.env.sandbox_url.trim_end_matches('/');
        assert!(
            csp.contains(&format!("frame-src {sandbox}")),
            "frames only from the provider (the sandbox here): {csp}"
        );
        assert!(!csp.contains("'unsafe-inline' 'wasm") && !csp.contains("script-src *"));
        if res
            .headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|s| s.split('\'').next())
                .unwrap();
            // Every inline or module script of the page carries this response's nonce.
            for script in res.body.split("<script").skip(1) {
                let tag = script.split('>').next().unwrap();
                assert!(
                    tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
                    "{path}: a script without the nonce: <script{tag}>"
                );
            }
        }
    }
    let a = app.get("/signin", None).await.headers["content-security-policy"].clone();
    let b = app.get("/signin", None).await.headers["content-security-policy"].clone();
    assert_ne!(a, b, "a fresh nonce per response");
    app.finish().await;
}

#[tokio::test]
async fn cross_site_calls_to_server_functions_are_refused() {
    let app = SecEnv::start(Backend::Sqlite).await;
    let cookie = app.dev_sign_in("alice", "Cross Org").await;
    let public = app.env.state.settings.public_url.clone();
    let call = |origin: Option<&'static str>,
                site: Option<&'static str>,
                path: &'static str,
                body: String| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &cookie);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.body(Body::from(body)).unwrap()
    };
    let p = "/api/hris/set_enabled";
    let ok = |s: StatusCode| s == StatusCode::OK;
    assert_eq!(
        app.send(call(
            Some("https://evil.example"),
            Some("cross-site"),
            p,
            "enabled=true".into()
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(call(Some("null"), None, p, "enabled=true".into()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(call(None, Some("cross-site"), p, "enabled=true".into()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The host shell may post a token to the host sign-in, nothing else.
    assert_eq!(
        app.send(call(
            Some("https://shell.test"),
            Some("cross-site"),
            p,
            "enabled=true".into()
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let token = host_token("shell-org", "u1", &["manage_integrations"]);
    let res = app
        .send(call(
            Some("https://shell.test"),
            Some("cross-site"),
            "/api/session/host_sign_in",
            form(&[("token", &token), ("return_to", "/admin/integrations/hris")]),
        ))
        .await;
    assert!(res.status.is_redirection() || ok(res.status), "{res:?}");
    assert!(res.headers["set-cookie"].contains("HttpOnly"));
    // Same-origin calls pass, and calls without browser headers (tools, tests).
    let own: &'static str = Box::leak(public.into_boxed_str());
    assert!(ok(app
        .send(call(
            Some(own),
            Some("same-origin"),
            p,
            "enabled=true".into()
        ))
        .await
        .status));
    assert!(ok(app
        .send(call(None, None, p, "enabled=true".into()))
        .await
        .status));
    // The webhook is not a server function: no Origin rule (its signature is checked instead).
    let res = app
        .send(
            Request::post("/webhooks/merge")
                .header(header::ORIGIN, "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn the_origin_check_compares_scheme_host_and_port() {
    let app = SecEnv::start(Backend::Sqlite).await;
    let cookie = app.dev_sign_in("alice", "Scheme Org").await;
    let base = app.serve().await;
    let authority = base.trim_start_matches("http://").to_string();
    let port = authority.rsplit(':').next().unwrap().to_string();
    let public = app.env.state.settings.public_url.clone();
    let client = common::test_client(false);
    let call = |origin: String, host: Option<String>| {
        let mut req = client
            .post(format!("{base}/api/hris/set_enabled"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", "same-origin")
            .body("enabled=true");
        if let Some(h) = host {
            req = req.header(header::HOST, h);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The address the request was sent to, over this server's scheme (plain http), or the public URL.
    assert_eq!(call(base.clone(), None).await, 200);
    assert_eq!(call(public.clone(), None).await, 200);
    let localhost = format!("localhost:{port}");
    assert_eq!(
        call(format!("http://{localhost}"), Some(localhost.clone())).await,
        200
    );
    // The same host and port over another scheme, or another port, is another origin.
    for origin in [
        format!("https://{authority}"),
        format!("ftp://{authority}"),
        format!("ws://{authority}"),
        format!("https://{localhost}"),
        "http://127.0.0.1".to_string(),
        format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1),
        public.replacen("http://", "https://", 1),
    ] {
        if origin == public {
            continue;
        }
        let host = origin.contains("localhost").then(|| localhost.clone());
        assert_eq!(call(origin.clone(), host).await, 403, "{origin}");
    }
    app.finish().await;
}

#[tokio::test]
async fn host_tokens_start_a_session_with_their_identity() {
    let app = SecEnv::start(Backend::Sqlite).await;
    let token = host_token("org-h", "u-7", &["manage_integrations"]);
    let res = app
        .post(
            "/api/session/host_sign_in",
            &form(&[("token", &token)]),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(res.json()["user_name"], "User u-7");
    assert!(!res.body.contains(&token));
    let cookie = res.cookie();
    let res = app.post("/api/hris/settings", "", Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    // A token opens one session. Used again by anyone else (no cookie, or another user's) it is
    // refused; from the browser it signed in, it changes nothing.
    let replay = |cookie: Option<String>| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post(
                "/api/session/host_sign_in",
                &form(&[("token", &token)]),
                cookie.as_deref(),
            )
            .await
        }
    };
    let res = replay(None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    assert!(!res.headers.contains_key("set-cookie"));
    let other = app
        .post(
            "/api/session/host_sign_in",
            &form(&[(
                "token",
                &host_token("org-h", "u-8", &["manage_integrations"]),
            )]),
            None,
        )
        .await
        .cookie();
    assert_eq!(replay(Some(other)).await.status, StatusCode::UNAUTHORIZED);
    let res = replay(Some(cookie.clone())).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(res.json()["user_name"], "User u-7");
    assert!(!res.headers.contains_key("set-cookie"));
    // Refused: wrong key, expired, another audience; a refused token leaves no session.
    let wrong = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"iss": support::HOST_ISSUER, "aud": support::HOST_AUDIENCE, "sub": "x", "name": "x",
                "org_id": "o", "org_name": "o", "exp": support::now() + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-shared-secret-not-the-shared-secret"),
    )
    .unwrap();
    for bad in [wrong, "junk".into(), String::new()] {
        let res = app
            .post("/api/session/host_sign_in", &form(&[("token", &bad)]), None)
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        assert!(!res.headers.contains_key("set-cookie"));
    }
    // Without a configured key the endpoint does not exist.
    let mut state = app.env.state.clone();
    state.host_tokens = None;
    let router = server::router::app(state);
    use tower::ServiceExt;
    let res = router
        .oneshot(
            Request::post("/api/session/host_sign_in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[("token", &token)])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn webhooks_are_verified_deduplicated_and_handled(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let key = app.env.state.settings.webhook_keys[0].clone();
    let post = |body: String, sig: Option<String>| {
        let mut req =
            Request::post("/webhooks/merge").header(header::CONTENT_TYPE, "application/json");
        if let Some(s) = sig {
            req = req.header("X-Merge-Webhook-Signature", s);
        }
        req.body(Body::from(body)).unwrap()
    };
    // Signed with the configured key: accepted; a replay is "already handled".
    let ping = json!({"response": "Success! This URL will be notified."}).to_string();
    let sig = merge_sandbox::sign_webhook(&key, ping.as_bytes());
    let res = app.send(post(ping.clone(), Some(sig.clone()))).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
    let res = app.send(post(ping.clone(), Some(sig.clone()))).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::OK, "already handled")
    );
    // Unpadded works as well (and is the same delivery).
    let res = app
        .send(post(ping.clone(), Some(sig.trim_end_matches('=').into())))
        .await;
    assert_eq!(res.body, "already handled");
    // Missing, wrong, other key, tampered body: 401.
    for (body, sig) in [
        (ping.clone(), None),
        (ping.clone(), Some("".to_string())),
        (ping.clone(), Some("AAAA".to_string())),
        (
            ping.clone(),
            Some(merge_sandbox::sign_webhook(
                "another-key-0123456789",
                ping.as_bytes(),
            )),
        ),
        (ping.replace("Success", "Failure"), Some(sig.clone())),
    ] {
        let res = app.send(post(body, sig)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // Signed non-JSON is accepted and ignored.
    let res = app
        .send(post(
            "not json".into(),
            Some(merge_sandbox::sign_webhook(&key, b"not json")),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK);

    // A real event: LinkedAccount.linked for a pending magic link stores its (sealed) token.
    let desk = app
        .host_sign_in("desk-org", "desk", &["service_desk"])
        .await;
    app.host_sign_in("wh-org", "admin", &["manage_integrations"])
        .await;
    let res = app
        .post(
            "/api/desk/issue_magic_link",
            &form(&[("org_id", "wh-org"), ("slug", "")]),
            Some(&desk),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let link_id = res.json()["id"].as_str().unwrap().to_string();
    let origin = app
        .env
        .state
        .db
        .magic_link(&"wh-org".into(), &link_id.as_str().into())
        .await
        .unwrap()
        .unwrap()
        .end_user_origin_id;
    let event = json!({
        "hook": {"id": "h1", "event": "LinkedAccount.linked", "target": "x"},
        "linked_account": {"id": "acct-wh", "end_user_origin_id": origin},
        "data": {"account_token": "planted-webhook-token-1234", "is_relink": false},
    })
    .to_string();
    let sig = merge_sandbox::sign_webhook(&key, event.as_bytes());
    let res = app.send(post(event.clone(), Some(sig.clone()))).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "ok"));
    let stored = app
        .env
        .state
        .db
        .magic_link(&"wh-org".into(), &link_id.as_str().into())
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.account_token.expect("token stored");
    assert_eq!(
        app.env.state.keyring.open(&sealed).unwrap(),
        "planted-webhook-token-1234"
    );
    let res = app.send(post(event, Some(sig))).await;
    assert_eq!(res.body, "already handled");
    app.finish().await;
}

/// A signed delivery whose content can never be handled is answered 200 "ignored" and recorded (a
/// replay is "already handled"): Merge retries a 503 forever.
async fn webhooks_that_can_never_be_handled_answer_200_not_503(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let key = app.env.state.settings.webhook_keys[0].clone();
    let client = common::test_client(false);
    let deliver = |body: String| {
        let sig = merge_sandbox::sign_webhook(&key, body.as_bytes());
        let req = client
            .post(format!("{base}/webhooks/merge"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("X-Merge-Webhook-Signature", sig)
            .body(body);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let desk = app.host_sign_in("nul-org", "desk", &["service_desk"]).await;
    let res = app
        .post(
            "/api/desk/issue_magic_link",
            &form(&[("org_id", "nul-org"), ("slug", "")]),
            Some(&desk),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let link_id = app::model::MagicLinkId::from(res.json()["id"].as_str().unwrap());
    let link = || async {
        app.env
            .state
            .db
            .magic_link(&"nul-org".into(), &link_id)
            .await
            .unwrap()
            .unwrap()
    };
    let origin = link().await.end_user_origin_id;
    let linked = |origin: &str, account: &str, token: &str| {
        json!({
            "hook": {"id": uuid::Uuid::new_v4().to_string(), "event": "LinkedAccount.linked", "target": "x"},
            "linked_account": {"id": account, "end_user_origin_id": origin},
            "data": {"account_token": token, "is_relink": false},
        })
        .to_string()
    };
    for (what, body) in [
        (
            "a NUL in the origin id",
            linked("wh\u{0}origin", "acct-1", "tok-1"),
        ),
        (
            "a NUL in the origin id of a real link",
            linked(&format!("{origin}\u{0}"), "acct-1", "tok-1"),
        ),
        (
            "a NUL in the account id",
            linked(&origin, "acct\u{0}1", "tok-1"),
        ),
        ("a NUL in the token", linked(&origin, "acct-1", "tok\u{0}1")),
        (
            "an over-long account id",
            linked(&origin, &"a".repeat(100_000), "tok-1"),
        ),
    ] {
        let (s, text) = deliver(body.clone()).await;
        assert_eq!((s, text.as_str()), (200, "ignored"), "{what}");
        let (s, text) = deliver(body).await;
        assert_eq!(
            (s, text.as_str()),
            (200, "already handled"),
            "{what}: recorded"
        );
    }
    // A NUL in the event's name: not an event this app handles, accepted.
    let (s, text) =
        deliver(json!({"hook": {"event": "LinkedAccount.linked\u{0}"}}).to_string()).await;
    assert_eq!((s, text.as_str()), (200, "ok"));
    // The link was left alone: the real delivery still uses it.
    assert!(link().await.account_token.is_none());
    let (s, text) = deliver(linked(&origin, "acct-1", "tok-good-1")).await;
    assert_eq!((s, text.as_str()), (200, "ok"));
    let sealed = link().await.account_token.expect("token stored");
    assert_eq!(app.env.state.keyring.open(&sealed).unwrap(), "tok-good-1");
    app.finish().await;
}

/// Slowloris: clients that send half a request, or finish one and then idle, are cut off after the
/// header-read timeout, while other clients are served.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_after_the_header_timeout() {
    use std::time::{Duration, Instant};
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };
    let app = SecEnv::start(Backend::Sqlite).await;
    let timeout = Duration::from_millis(800);
    let served = serve_router(
        app.router.clone(),
        ConnectionLimits {
            header_read_timeout: timeout,
            max_connections: 100,
            shutdown_grace: Duration::from_secs(5),
        },
    )
    .await;
    let opened = Instant::now();
    let mut held = Vec::new();
    for i in 0..60 {
        let mut s = TcpStream::connect(served.addr).await.unwrap();
        // Half a request line, or all of the line and some headers.
        let part: &[u8] = if i % 2 == 0 {
            b"GET /healthz HT"
        } else {
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        };
        s.write_all(part).await.unwrap();
        held.push(s);
    }
    // A client that finished a request keeps an idle keep-alive connection.
    let mut idle = TcpStream::connect(served.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    held.push(idle);
    // Meanwhile, others are served.
    let client = common::test_client(false);
    let res = client
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Every held connection is closed by the server (end of stream or reset), not too early.
    for (i, s) in held.iter_mut().enumerate() {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await;
        assert!(
            read.is_ok(),
            "connection {i} still open {:?} after it was opened",
            opened.elapsed()
        );
    }
    assert!(
        opened.elapsed() >= timeout,
        "closed after {:?}",
        opened.elapsed()
    );
    // A new client: the first one's pooled keep-alive connection was closed as idle meanwhile.
    let res = common::test_client(false)
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the server still serves");
    served.stop().await.unwrap();
    app.finish().await;
}

/// At most `max_connections` are served at once: a further client waits until one closes.
#[tokio::test]
async fn connections_are_capped() {
    use std::time::Duration;
    use tokio::{io::AsyncWriteExt, net::TcpStream};
    let app = SecEnv::start(Backend::Sqlite).await;
    let served = serve_router(
        app.router.clone(),
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(60),
            max_connections: 2,
            shutdown_grace: Duration::from_secs(5),
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(served.addr).await.unwrap();
        s.write_all(b"GET /healthz HT").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = common::test_client(false);
    let url = format!("{}/healthz", served.base);
    let waiting = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "a third connection is not served");
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("served once a connection closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    drop(held);
    served.stop().await.unwrap();
    app.finish().await;
}

/// On the shutdown signal the server stops accepting and finishes the requests in flight.
#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    use std::time::Duration;
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            "done"
        }),
    );
    let served = serve_router(slow, ConnectionLimits::default()).await;
    let (addr, url) = (served.addr, format!("{}/slow", served.base));
    let client = common::test_client(false);
    let in_flight =
        tokio::spawn(async move { client.get(url).send().await.unwrap().text().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), served.stop())
        .await
        .expect("stops once the request is done")
        .unwrap();
    assert!(
        stopping.elapsed() >= Duration::from_millis(300),
        "the server waited for the request: {:?}",
        stopping.elapsed()
    );
    assert_eq!(in_flight.await.unwrap(), "done");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
