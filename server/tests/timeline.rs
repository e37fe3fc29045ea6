//! Issue 15 over real HTTP: the timeline (who may read it, whose entries they get, paging) and the
//! service desk's webhook log with replay.

mod common;
mod support;

use common::call;

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use support::{form, Backend, SecEnv};

use app::{
    model::{WebhookOutcome, WebhookReason, WebhookVerdict},
    storage::WebhookLogRecord,
};

on_both_backends!(
    the_timeline_is_its_organizations_and_needs_a_permission,
    the_timeline_pages_by_twenty,
    webhooks_are_logged_and_the_desk_replays_a_failed_one,
);

fn actions(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn the_timeline_is_its_organizations_and_needs_a_permission(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let alice = app
        .host_sign_in("tl-a", "alice", &["manage_integrations"])
        .await;
    let bob = app
        .host_sign_in("tl-b", "bob", &["manage_integrations"])
        .await;
    let nobody = app.host_sign_in("tl-a", "nobody", &[]).await;
    let desk = app.host_sign_in("tl-desk", "dana", &["service_desk"]).await;
    for cookie in [&alice, &bob] {
        let (status, _, body) = call(&base, "/api/hris/set_enabled", "enabled=true", cookie).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, body) = call(
        &base,
        "/api/connections/start",
        &form(&[("slug", "personio"), ("name", "Alice HR")]),
        &alice,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Alice reads her organization's timeline: newest first, with names and actors.
    let (status, page, body) = call(&base, "/api/hris/timeline", "page=1", &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(actions(&page), ["ConnectionCreated", "HrisEnabled"]);
    assert_eq!(page["entries"][0]["subject"], "Alice HR");
    assert!(page["entries"][0]["actor"]
        .as_str()
        .is_some_and(|a| !a.is_empty()));
    assert_eq!(page["has_more"], false);
    // Bob's organization has its own; Alice's entries are never in it.
    let (status, page, body) = call(&base, "/api/hris/timeline", "page=1", &bob).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actions(&page), ["HrisEnabled"]);
    assert!(!body.contains("Alice HR"), "{body}");
    // The desk sees the organization it picks, and only that one.
    let (status, page, _) = call(
        &base,
        "/api/desk/timeline",
        &form(&[("org_id", "tl-a"), ("page", "1")]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actions(&page), ["ConnectionCreated", "HrisEnabled"]);
    let (_, page, body) = call(
        &base,
        "/api/desk/timeline",
        &form(&[("org_id", "tl-b"), ("page", "1")]),
        &desk,
    )
    .await;
    assert_eq!(actions(&page), ["HrisEnabled"]);
    assert!(!body.contains("Alice HR"));

    // Without the permission: 403, for every way in.
    for (cookie, path, args) in [
        (&nobody, "/api/hris/timeline", "page=1"),
        (&desk, "/api/hris/timeline", "page=1"),
        (&nobody, "/api/desk/timeline", "org_id=tl-a&page=1"),
        (&alice, "/api/desk/timeline", "org_id=tl-a&page=1"),
        (&alice, "/api/desk/timeline", "org_id=tl-b&page=1"),
        (&alice, "/api/desk/webhook_log", "page=1"),
        (&alice, "/api/desk/replay_webhook", "id=x"),
    ] {
        let (status, _, body) = call(&base, path, args, cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(!body.contains("Alice HR"));
    }
    let (status, _, _) = call(&base, "/api/hris/timeline", "page=-1", &alice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.finish().await;
}

async fn the_timeline_pages_by_twenty(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let alice = app
        .host_sign_in("tl-p", "alice", &["manage_integrations"])
        .await;
    // 26 changes: on and off, thirteen times.
    for i in 0..26 {
        let on = if i % 2 == 0 { "true" } else { "false" };
        let (status, _, _) = call(
            &base,
            "/api/hris/set_enabled",
            &format!("enabled={on}"),
            &alice,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, first, _) = call(&base, "/api/hris/timeline", "page=1", &alice).await;
    let (_, second, _) = call(&base, "/api/hris/timeline", "page=2", &alice).await;
    assert_eq!((actions(&first).len(), actions(&second).len()), (20, 6));
    assert_eq!(
        (first["has_more"].clone(), second["has_more"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(first["page"], 1);
    assert_eq!(second["page"], 2);
    // The newest is the last switch (off); the oldest is the first (on).
    assert_eq!(actions(&first)[0], "HrisDisabled");
    assert_eq!(actions(&second).last().unwrap(), "HrisEnabled");
    // Page 0 is the first page; a page past the end is empty.
    let (_, zero, _) = call(&base, "/api/hris/timeline", "page=0", &alice).await;
    assert_eq!(zero, first);
    let (_, past, _) = call(&base, "/api/hris/timeline", "page=9", &alice).await;
    assert!(actions(&past).is_empty());
    app.finish().await;
}

async fn webhooks_are_logged_and_the_desk_replays_a_failed_one(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let key = app.env.state.settings.webhook_keys[0].clone();
    let client = common::test_client(false);
    let deliver = |body: String, sig: Option<String>| {
        let mut req = client
            .post(format!("{base}/webhooks/merge"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(s) = sig {
            req = req.header("X-Merge-Webhook-Signature", s);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let linked = |origin: &str, account: &str| {
        json!({
            "hook": {"id": "h1", "event": "LinkedAccount.linked", "target": "x"},
            "linked_account": {"id": account, "end_user_origin_id": origin},
            "data": {"account_token": "planted-log-token-5678", "is_relink": false},
        })
        .to_string()
    };
    // A signed event for an origin nobody issued: failed, unknown linked account (200: no retry).
    let unknown = linked("origin-nobody", "acct-unknown");
    let sig = merge_sandbox::sign_webhook(&key, unknown.as_bytes());
    assert_eq!(
        deliver(unknown.clone(), Some(sig.clone())).await,
        (200, "ignored".into())
    );
    // The same again: a duplicate.
    assert_eq!(deliver(unknown.clone(), Some(sig)).await.0, 200);
    // Unsigned, and signed with a key not configured here: rejected, never acted on.
    assert_eq!(deliver(unknown.clone(), None).await.0, 401);
    let foreign = merge_sandbox::sign_webhook("another-key-0123456789", unknown.as_bytes());
    assert_eq!(deliver(unknown.clone(), Some(foreign)).await.0, 401);

    let desk = app.host_sign_in("wl-desk", "dana", &["service_desk"]).await;
    let (status, log, body) = call(&base, "/api/desk/webhook_log", "page=1", &desk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        !body.contains("planted-log-token"),
        "bodies never reach the browser"
    );
    let entries = log["entries"].as_array().unwrap();
    let summary: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["verdict"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("unknown_key", "rejected", None),
            ("invalid", "rejected", None),
            ("valid", "duplicate", None),
            ("valid", "failed", Some("unknown_account")),
        ],
        "newest first"
    );
    assert!(entries
        .iter()
        .all(|e| e["event"] == "LinkedAccount.linked" && e["linked_account_id"] == "acct-unknown"));
    assert_eq!(entries[0]["replayable"], false);
    assert_eq!(entries[0]["replay_block"], "signature_not_valid");
    assert_eq!(entries[2]["replayable"], false);
    assert_eq!(entries[2]["replay_block"], Value::Null);
    assert_eq!(entries[3]["replayable"], true);
    let failed_id = entries[3]["id"].as_str().unwrap().to_string();
    let rejected_id = entries[0]["id"].as_str().unwrap().to_string();

    // Replaying the failed one: a new entry linked to it (still unknown), audited.
    let (status, replay, body) = call(
        &base,
        "/api/desk/replay_webhook",
        &form(&[("id", &failed_id)]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(replay["replay_of"], failed_id.as_str());
    assert_eq!(replay["replayed_by"], "User dana");
    assert_eq!(
        (replay["outcome"].as_str(), replay["reason"].as_str()),
        (Some("failed"), Some("unknown_account"))
    );
    assert_eq!(
        app.env.audit_actions(&"wl-desk".into(), 10).await,
        ["webhook.replayed"]
    );
    let (_, log, _) = call(&base, "/api/desk/webhook_log", "page=1", &desk).await;
    assert_eq!(log["entries"][0]["id"], replay["id"]);

    // Refused: a rejected signature, a delivery that was handled, an id that does not exist.
    let (status, _, body) = call(
        &base,
        "/api/desk/replay_webhook",
        &form(&[("id", &rejected_id)]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.contains("Cannot be replayed: its signature was not valid."),
        "{body}"
    );
    let duplicate_id = entries[2]["id"].as_str().unwrap();
    let (status, _, body) = call(
        &base,
        "/api/desk/replay_webhook",
        &form(&[("id", duplicate_id)]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.contains("Only failed or ignored deliveries can be replayed."),
        "{body}"
    );
    let (status, _, _) = call(
        &base,
        "/api/desk/replay_webhook",
        "id=no-such-delivery",
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.env.audit_actions(&"wl-desk".into(), 10).await.len(),
        1,
        "refusals change nothing"
    );

    // A delivery that failed on our side (as in a database outage) for a pending magic link:
    // replayed, it is handled and the link is used.
    app.host_sign_in("wl-org", "admin", &["manage_integrations"])
        .await;
    let (status, link, body) = call(
        &base,
        "/api/desk/issue_magic_link",
        &form(&[("org_id", "wl-org"), ("slug", "")]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let link_id = link["id"].as_str().unwrap();
    let db = &app.env.state.db;
    let origin = db
        .magic_link(&"wl-org".into(), &link_id.into())
        .await
        .unwrap()
        .unwrap()
        .end_user_origin_id;
    let body = linked(&origin, "acct-later");
    let mut outage = WebhookLogRecord::new(
        "LinkedAccount.linked",
        WebhookVerdict::Valid,
        WebhookOutcome::Failed,
    );
    outage.reason = Some(WebhookReason::Temporary);
    outage.body_bytes = body.len() as i64;
    outage.body = Some(app.env.state.keyring.seal(&body));
    db.record_webhook(&outage).await.unwrap();
    let (status, replay, body) = call(
        &base,
        "/api/desk/replay_webhook",
        &form(&[("id", outage.id.as_str())]),
        &desk,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(replay["outcome"], "handled");
    assert_eq!(replay["replayable"], false);
    let used = db
        .magic_link(&"wl-org".into(), &link_id.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.linked_account_id.as_deref(), Some("acct-later"));
    assert_eq!(
        app.env
            .state
            .keyring
            .open(&used.account_token.unwrap())
            .unwrap(),
        "planted-log-token-5678"
    );
    // The organization's timeline shows the link used; the desk's shows both replays.
    let (_, page, _) = call(
        &base,
        "/api/desk/timeline",
        &form(&[("org_id", "wl-org"), ("page", "1")]),
        &desk,
    )
    .await;
    assert_eq!(actions(&page), ["MagicLinkUsed", "MagicLinkIssued"]);
    let (_, page, _) = call(
        &base,
        "/api/desk/timeline",
        &form(&[("org_id", "wl-desk"), ("page", "1")]),
        &desk,
    )
    .await;
    assert_eq!(actions(&page), ["WebhookReplayed", "WebhookReplayed"]);
    assert_eq!(page["entries"][0]["result"], json!({"webhook": "handled"}));
    app.finish().await;
}
