//! Issue 14 over real HTTP, against the sandbox, on SQLite and PostgreSQL: the sync card and Sync now
//! (refused while a run is queued or running, with the reason), the history's pages, the held
//! removals (apply, keep), the directory's search and keyset pages, and the preview before switching
//! the source (cancel changes nothing, confirm switches). Runs are executed here as a worker would
//! (the engine is not started), so every state is observed deterministically.

mod common;
mod support;

use common::call;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};
use support::{form, Backend, SecEnv};

use app::{
    domain::sync::engine,
    model::{ConnectionId, OrganizationId},
    state::AppState,
};

on_both_backends!(
    the_card_sync_now_and_the_history_need_the_permission_and_page,
    held_removals_are_listed_then_applied_or_kept,
    the_directory_is_searched_and_paged_on_the_server,
    switching_the_source_shows_a_preview_and_cancel_changes_nothing,
);

/// `call` that must answer 200; returns the JSON.
async fn ok(base: &str, path: &str, body: &str, cookie: &str) -> Value {
    let (status, v, text) = call(base, path, body, cookie).await;
    assert_eq!(status, StatusCode::OK, "{path} {body}: {text}");
    v
}

/// An admin of `org` with the integration on.
async fn admin(app: &SecEnv, base: &str, org: &str) -> String {
    let cookie = app
        .host_sign_in(org, &format!("{org}-admin"), &["manage_integrations"])
        .await;
    ok(base, "/api/hris/set_enabled", "enabled=true", &cookie).await;
    cookie
}

/// Connects `slug` as `name` through the Link dialog, its sandbox organization of `size` people
/// (frozen); returns the connection's id and its linked account.
async fn link(
    app: &SecEnv,
    base: &str,
    cookie: &str,
    slug: &str,
    name: &str,
    size: usize,
) -> (String, String) {
    let session = ok(
        base,
        "/api/connections/start",
        &form(&[("slug", slug), ("name", name)]),
        cookie,
    )
    .await;
    let id = session["connection_id"].as_str().unwrap().to_string();
    app.env
        .control(
            Method::PUT,
            &format!("/organizations/hris-connect-{id}"),
            Some(json!({ "employees": size, "evolve": false })),
        )
        .await;
    let public = app
        .env
        .complete_link(
            session["link_token"].as_str().unwrap(),
            json!({ "integration": slug }),
        )
        .await;
    let view = ok(
        base,
        "/api/connections/finish_link",
        &form(&[("id", &id), ("public_token", &public)]),
        cookie,
    )
    .await;
    let account = view["linked_account_id"].as_str().unwrap().to_string();
    (id, account)
}

/// Executes the connection's queued run to its end, as a worker would; returns its outcome.
async fn run_pending(state: &AppState, id: &str) -> String {
    let run = state
        .db
        .pending_sync_run(&ConnectionId::from(id))
        .await
        .unwrap()
        .expect("a queued run");
    for _ in 0..10 {
        match engine::execute(state, &run.id).await {
            engine::Executed::Finished(outcome) => return <&str>::from(outcome).to_string(),
            engine::Executed::RetryAfter(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the run did not finish");
}

/// Every person of the directory the page lists with `filter` and `search`, page by page.
async fn all_pages(base: &str, cookie: &str, search: &str, filter: &str) -> Vec<Value> {
    let (mut people, mut after) = (Vec::new(), String::new());
    for _ in 0..100 {
        let page = ok(
            base,
            "/api/sync/directory",
            &form(&[("search", search), ("filter", filter), ("after", &after)]),
            cookie,
        )
        .await;
        people.extend(page["people"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => return people,
        }
    }
    panic!("the pages did not end");
}

async fn the_card_sync_now_and_the_history_need_the_permission_and_page(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let state = &app.env.state;
    let alice = admin(&app, &base, "sync-ui-1").await;
    let nobody = app.host_sign_in("sync-ui-1", "nobody", &[]).await;
    let desk = app
        .host_sign_in("sync-ui-1", "desk", &["service_desk"])
        .await;
    for path in [
        "/api/sync/status",
        "/api/sync/now",
        "/api/sync/history",
        "/api/sync/held",
        "/api/sync/directory",
    ] {
        for cookie in [&nobody, &desk] {
            let (status, _, body) =
                call(&base, path, "page=1&search=&filter=&after=", cookie).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        }
    }

    // No active connection: no card, and Sync now says why.
    assert_eq!(ok(&base, "/api/sync/status", "", &alice).await, Value::Null);
    let (status, _, body) = call(&base, "/api/sync/now", "", &alice).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("Activate a connection first"), "{body}");

    let (id, _) = link(&app, &base, &alice, "personio", "Personio", 30).await;
    ok(
        &base,
        "/api/connections/activate",
        &form(&[("id", &id)]),
        &alice,
    )
    .await;
    let card = ok(&base, "/api/sync/status", "", &alice).await;
    assert_eq!(card["state"], "queued", "{card}");
    assert_eq!(card["name"], "Personio");
    assert_eq!(card["latest"]["trigger"], "activation");

    // Queued: Sync now is refused with the reason, and nothing more is queued.
    let (status, _, body) = call(&base, "/api/sync/now", "", &alice).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("A sync is already queued and starts shortly."),
        "{body}"
    );
    // Running (a worker claimed it): refused with that reason; the card shows it running.
    let run = state
        .db
        .pending_sync_run(&ConnectionId::from(id.as_str()))
        .await
        .unwrap()
        .unwrap();
    let fence = state.db.claim_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        ok(&base, "/api/sync/status", "", &alice).await["state"],
        "running"
    );
    let (status, _, body) = call(&base, "/api/sync/now", "", &alice).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("A sync is running now. Wait until it has finished."),
        "{body}"
    );
    state.db.requeue_sync_run(&fence).await.unwrap();
    assert_eq!(run_pending(state, &id).await, "done");

    let card = ok(&base, "/api/sync/status", "", &alice).await;
    assert_eq!(card["state"], "up_to_date", "{card}");
    // Everyone was read; the directory has those still employed.
    let (active, total) = state
        .db
        .employee_counts(&OrganizationId::from("sync-ui-1"))
        .await
        .unwrap();
    assert_eq!(total, 30);
    assert!(active > 20 && active <= 30, "{active}");
    assert_eq!(card["people"], active);
    assert!(card["last_success_at"].as_i64().is_some(), "{card}");
    assert!(card["next_at"].as_i64().is_some(), "{card}");
    // Added counts the run's new records of every stream (people, employments, teams...).
    let added = card["latest"]["counts"]["added"].as_i64().unwrap();
    assert!(added >= 30, "{card}");
    assert_eq!(card["progress"], json!([]));
    // The card is the organization's own: another admin sees none.
    let other = admin(&app, &base, "sync-ui-other").await;
    assert_eq!(ok(&base, "/api/sync/status", "", &other).await, Value::Null);
    assert_eq!(
        ok(&base, "/api/sync/history", "page=1", &other).await["runs"],
        json!([])
    );

    // Eleven Sync nows, each run to its end: twelve runs, ten a page, newest first.
    for _ in 0..11 {
        let queued = ok(&base, "/api/sync/now", "", &alice).await;
        assert_eq!(queued["trigger"], "manual");
        assert_eq!(queued["finished"], false);
        assert_eq!(run_pending(state, &id).await, "done");
    }
    let first = ok(&base, "/api/sync/history", "page=1", &alice).await;
    let runs = first["runs"].as_array().unwrap();
    assert_eq!((runs.len(), first["has_more"].as_bool()), (10, Some(true)));
    assert!(runs
        .iter()
        .all(|r| r["trigger"] == "manual" && r["result"] == "done"));
    // Nothing changed at the source: the later runs count nothing.
    assert_eq!(runs[0]["counts"]["added"], 0);
    let second = ok(&base, "/api/sync/history", "page=2", &alice).await;
    let older = second["runs"].as_array().unwrap();
    assert_eq!(
        (older.len(), second["has_more"].as_bool()),
        (2, Some(false))
    );
    assert_eq!(older[1]["trigger"], "activation");
    assert_eq!(older[1]["counts"]["added"], added);
    let ids: BTreeSet<_> = runs
        .iter()
        .chain(older)
        .map(|r| r["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 12, "no run on two pages");
    let (status, _, body) = call(&base, "/api/sync/history", "page=0", &alice).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Pages count from 1."), "{body}");
    let (status, _, _) = call(&base, "/api/sync/history", "page=x", &alice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.finish().await;
}

async fn held_removals_are_listed_then_applied_or_kept(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let state = &app.env.state;
    let org = OrganizationId::from("sync-ui-2");
    let alice = admin(&app, &base, org.as_str()).await;
    let (id, account) = link(&app, &base, &alice, "personio", "Personio", 40).await;
    ok(
        &base,
        "/api/connections/activate",
        &form(&[("id", &id)]),
        &alice,
    )
    .await;
    assert_eq!(run_pending(state, &id).await, "done");
    assert_eq!(ok(&base, "/api/sync/held", "", &alice).await, Value::Null);
    let active = ok(&base, "/api/sync/status", "", &alice).await["people"]
        .as_i64()
        .unwrap();

    // 30 % leave at once: the run holds them.
    let left = app
        .env
        .control(
            Method::POST,
            &format!("/accounts/{account}/leavers"),
            Some(json!({ "action": "terminate", "percent": 30 })),
        )
        .await;
    let leavers = left["remote_ids"].as_array().unwrap().len() as i64;
    assert!(leavers > active / 10, "{left}");
    ok(&base, "/api/sync/now", "", &alice).await;
    assert_eq!(run_pending(state, &id).await, "held");
    let card = ok(&base, "/api/sync/status", "", &alice).await;
    assert_eq!(card["state"], "needs_attention", "{card}");
    assert_eq!(card["people"], active, "nobody left yet");
    let held = ok(&base, "/api/sync/held", "", &alice).await;
    assert_eq!(held["count"], leavers, "{held}");
    assert_eq!(held["limit_percent"], 10);
    let people = held["people"].as_array().unwrap();
    assert_eq!(people.len() as i64, leavers);
    assert!(people.iter().all(|p| {
        p["reason"] == "terminated"
            && !p["name"].as_str().unwrap().is_empty()
            && p["email"].as_str().is_some_and(|e| e.contains('@'))
            && p["last_seen_at"].as_i64().is_some()
    }));
    let history = ok(&base, "/api/sync/history", "page=1", &alice).await;
    assert_eq!(history["runs"][0]["result"], "held");
    assert_eq!(history["runs"][0]["counts"]["held"], leavers);

    // Another organization cannot decide them; a decision on nothing is refused.
    let other = admin(&app, &base, "sync-ui-2-other").await;
    let run_id = held["run_id"].as_str().unwrap().to_string();
    let (status, _, _) = call(
        &base,
        "/api/sync/decide",
        &form(&[("id", &run_id), ("apply", "true")]),
        &other,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = call(
        &base,
        "/api/sync/decide",
        &form(&[("id", &run_id), ("apply", "maybe")]),
        &alice,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Apply: they leave, the banner goes, the decision is audited; a second decision is refused.
    let gone = ok(
        &base,
        "/api/sync/decide",
        &form(&[("id", &run_id), ("apply", "true")]),
        &alice,
    )
    .await;
    assert_eq!(gone, json!(leavers));
    assert_eq!(ok(&base, "/api/sync/held", "", &alice).await, Value::Null);
    assert_eq!(
        ok(&base, "/api/sync/status", "", &alice).await["people"],
        active - leavers
    );
    assert_eq!(
        app.env.audit_actions(&org, 1).await,
        ["sync.removals_applied"]
    );
    let (status, _, body) = call(
        &base,
        "/api/sync/decide",
        &form(&[("id", &run_id), ("apply", "false")]),
        &alice,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Again 30 %, and this time Keep everyone: nobody leaves, the banner goes, audited.
    let before = active - leavers;
    app.env
        .control(
            Method::POST,
            &format!("/accounts/{account}/leavers"),
            Some(json!({ "action": "delete", "percent": 30 })),
        )
        .await;
    ok(&base, "/api/sync/now", "", &alice).await;
    assert_eq!(run_pending(state, &id).await, "held");
    let held = ok(&base, "/api/sync/held", "", &alice).await;
    assert!(held["people"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["reason"] == "deleted"));
    let kept = ok(
        &base,
        "/api/sync/decide",
        &form(&[("id", held["run_id"].as_str().unwrap()), ("apply", "false")]),
        &alice,
    )
    .await;
    assert_eq!(kept, json!(0));
    assert_eq!(ok(&base, "/api/sync/held", "", &alice).await, Value::Null);
    assert_eq!(
        ok(&base, "/api/sync/status", "", &alice).await["people"],
        before
    );
    assert_eq!(app.env.audit_actions(&org, 1).await, ["sync.removals_kept"]);
    app.finish().await;
}

async fn the_directory_is_searched_and_paged_on_the_server(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let state = &app.env.state;
    let alice = admin(&app, &base, "sync-ui-3").await;
    let (id, _) = link(&app, &base, &alice, "personio", "Personio", 130).await;
    ok(
        &base,
        "/api/connections/activate",
        &form(&[("id", &id)]),
        &alice,
    )
    .await;
    assert_eq!(run_pending(state, &id).await, "done");

    // Keyset pages of 50: everyone once, in name order.
    let first = ok(
        &base,
        "/api/sync/directory",
        &form(&[("search", ""), ("filter", "all"), ("after", "")]),
        &alice,
    )
    .await;
    assert_eq!(first["people"].as_array().unwrap().len(), 50);
    assert!(first["next"].as_str().is_some());
    let all = all_pages(&base, &alice, "", "all").await;
    let (_, total) = state
        .db
        .employee_counts(&OrganizationId::from("sync-ui-3"))
        .await
        .unwrap();
    assert_eq!(all.len() as i64, total);
    let ids: BTreeSet<_> = all.iter().map(|p| p["id"].to_string()).collect();
    assert_eq!(ids.len(), all.len(), "nobody on two pages");
    let names: Vec<String> = all
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "name order");
    for column in ["email", "job_title", "team", "manager", "location"] {
        assert!(
            all.iter().filter(|p| !p[column].is_null()).count() > all.len() / 2,
            "most people have a {column}"
        );
    }
    assert!(all.iter().all(|p| p["modified_at"].as_i64().is_some()));
    // Active and inactive together are everyone.
    let active = all_pages(&base, &alice, "", "active").await;
    let inactive = all_pages(&base, &alice, "", "inactive").await;
    assert_eq!(active.len() + inactive.len(), all.len());
    assert!(active.iter().all(|p| p["active"] == true));
    assert!(inactive.iter().all(|p| p["active"] == false));
    // The default is the active people.
    let default = ok(
        &base,
        "/api/sync/directory",
        "search=&filter=&after=",
        &alice,
    )
    .await;
    assert_eq!(default["people"][0], active[0]);

    // By e-mail (any case) and by the start of a name.
    let someone = &active[37];
    let email = someone["email"].as_str().unwrap();
    let found = all_pages(&base, &alice, &email.to_uppercase(), "all").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], someone["id"]);
    let prefix: String = someone["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .chars()
        .take(3)
        .collect();
    let by_name = all_pages(&base, &alice, &prefix, "all").await;
    assert!(by_name.iter().any(|p| p["id"] == someone["id"]));
    assert!(by_name.iter().all(|p| {
        p["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with(&prefix)
            || p["email"].as_str().unwrap_or_default().starts_with(&prefix)
    }));
    assert!(by_name.len() < all.len());
    assert!(all_pages(&base, &alice, "zz-nobody-%", "all")
        .await
        .is_empty());
    assert!(
        all_pages(&base, &alice, "%", "all").await.is_empty(),
        "wildcards are text"
    );

    // Bad input is refused with a clear message.
    for (args, message) in [
        (
            "search=&filter=gone&after=",
            "Show active, inactive or all people.",
        ),
        (
            "search=&filter=all&after=junk",
            "This page link is out of date.",
        ),
    ] {
        let (status, _, body) = call(&base, "/api/sync/directory", args, &alice).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains(message), "{body}");
    }
    let long = "a".repeat(201);
    let (status, _, body) = call(
        &base,
        "/api/sync/directory",
        &form(&[("search", &long), ("filter", ""), ("after", "")]),
        &alice,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Another organization's directory is not this one's.
    let other = admin(&app, &base, "sync-ui-3-other").await;
    assert!(all_pages(&base, &other, "", "all").await.is_empty());
    app.finish().await;
}

async fn switching_the_source_shows_a_preview_and_cancel_changes_nothing(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let base = app.serve().await;
    let state = &app.env.state;
    let org = OrganizationId::from("sync-ui-4");
    let alice = admin(&app, &base, org.as_str()).await;
    let (first, _) = link(&app, &base, &alice, "personio", "Personio", 20).await;
    let (second, _) = link(&app, &base, &alice, "hibob", "HiBob", 25).await;
    // The first activation has nothing to preview: it activates at once.
    let activated = ok(&base, "/api/sync/switch", &form(&[("id", &first)]), &alice).await;
    assert_eq!(activated["Activated"]["id"], first.as_str(), "{activated}");
    assert_eq!(run_pending(state, &first).await, "done");
    let people = all_pages(&base, &alice, "", "active").await;
    assert!(!people.is_empty());

    let preview = ok(&base, "/api/sync/switch", &form(&[("id", &second)]), &alice).await;
    let p = &preview["Preview"];
    assert_eq!(p["connection_id"], second.as_str(), "{preview}");
    assert_eq!(
        p["matched"].as_i64().unwrap() + p["leavers"].as_i64().unwrap(),
        people.len() as i64
    );
    assert!(p["joiners"].as_i64().unwrap() > 0, "{preview}");
    let preview_id = p["id"].as_str().unwrap().to_string();
    let before = (
        state.db.connections(&org).await.unwrap(),
        all_pages(&base, &alice, "", "all").await,
    );
    let audits = app.env.audit_actions(&org, 50).await;

    // Cancel: nothing changes, and the preview is closed.
    let cancelled = ok(
        &base,
        "/api/sync/cancel_switch",
        &form(&[("id", &preview_id)]),
        &alice,
    )
    .await;
    assert_eq!(cancelled, json!(preview_id));
    assert_eq!(state.db.connections(&org).await.unwrap(), before.0);
    assert_eq!(all_pages(&base, &alice, "", "all").await, before.1);
    assert_eq!(app.env.audit_actions(&org, 50).await, audits);
    assert!(state
        .db
        .pending_sync_run(&ConnectionId::from(second.as_str()))
        .await
        .unwrap()
        .is_none());
    for path in ["/api/sync/confirm_switch", "/api/sync/cancel_switch"] {
        let (status, _, body) = call(&base, path, &form(&[("id", &preview_id)]), &alice).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {body}");
        assert!(body.contains("already confirmed or cancelled"), "{body}");
        // Nobody else's preview, and no preview at all: not found.
        let (status, _, _) = call(&base, path, "id=no-such-preview", &alice).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let other = admin(&app, &base, "sync-ui-4-other").await;
    let again = ok(&base, "/api/sync/switch", &form(&[("id", &second)]), &alice).await;
    let again_id = again["Preview"]["id"].as_str().unwrap().to_string();
    let (status, _, _) = call(
        &base,
        "/api/sync/confirm_switch",
        &form(&[("id", &again_id)]),
        &other,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&base, "/api/sync/switch", &form(&[("id", &second)]), &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Confirm: the second connection is the source; the first one's people it lacks left.
    let now_active = ok(
        &base,
        "/api/sync/confirm_switch",
        &form(&[("id", &again_id)]),
        &alice,
    )
    .await;
    assert_eq!(now_active["id"], second.as_str());
    assert_eq!(now_active["enabled"], true);
    let connections = state.db.connections(&org).await.unwrap();
    assert!(connections
        .iter()
        .all(|c| c.enabled == (c.id.as_str() == second)));
    assert_eq!(
        app.env.audit_actions(&org, 3).await[0],
        "sync.source_switched"
    );
    let card = ok(&base, "/api/sync/status", "", &alice).await;
    assert_eq!(card["name"], "HiBob");
    assert_eq!(card["state"], "queued");
    assert_eq!(
        card["people"].as_i64().unwrap(),
        again["Preview"]["matched"].as_i64().unwrap()
    );
    app.finish().await;
}
