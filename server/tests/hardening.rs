//! Hardening (issue 6) through the real router: junk input to every server function, security
//! headers, the cross-site guard, host-token sign-in and the webhook receiver.

mod common;
mod support;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use serde_json::json;
use support::{form, host_token, server_functions, Backend, SecEnv};

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
        .magic_link("wh-org", &link_id)
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
        .magic_link("wh-org", &link_id)
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
