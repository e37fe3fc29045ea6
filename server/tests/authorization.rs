//! Authorization derived from the code (issue 6): every server function the app registers and every
//! other route is called without a session, with a session lacking the permission, and with another
//! organization's ids. Nothing here lists the functions by hand: a new one is covered automatically
//! (and is protected by default unless added to `app::api::PUBLIC_ENDPOINTS`).

mod common;
mod support;

use axum::http::{Method, StatusCode};
use support::{form, server_functions, Backend, SecEnv};

/// Values for every argument name the server functions take. Extra fields are ignored by the
/// server functions' form decoding; a function with an argument not listed here fails the tests
/// below with 400 and its name, so the list is kept complete.
fn universal_args<'a>(id: &'a str, org_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("id", id),
        ("org_id", org_id),
        ("slug", "personio"),
        ("name", "Probe connection"),
        ("public_token", "probe-public-token"),
        ("account_id", "probe-account"),
        ("token", "probe-token-0000"),
        ("enabled", "true"),
        ("user_id", "alice"),
        ("organization", "Probe Org"),
        ("page", "1"),
        ("apply", "true"),
        ("search", "probe"),
        ("filter", "all"),
        ("after", ""),
        ("locale", "en"),
    ]
}

/// True when the function needs an `id` argument (calling it without one does not parse).
async fn takes_id(app: &SecEnv, path: &str, cookie: &str) -> bool {
    let args: Vec<_> = universal_args("x", "y")
        .into_iter()
        .filter(|(k, _)| *k != "id")
        .collect();
    let res = app.post(path, &form(&args), Some(cookie)).await;
    res.status == StatusCode::BAD_REQUEST && res.body.contains("id")
}

on_both_backends!(
    every_server_function_needs_a_session_and_its_permission,
    another_organizations_ids_are_not_found_and_nothing_changes,
);

async fn every_server_function_needs_a_session_and_its_permission(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let fns = server_functions();
    // Declared public functions exist (a typo would silently protect nothing).
    for p in app::api::PUBLIC_ENDPOINTS {
        assert!(
            fns.iter().any(|(f, _)| f == p),
            "{p} is not a server function"
        );
    }
    let nobody = app.host_sign_in("org-perm", "nobody", &[]).await;
    let args = form(&universal_args("some-id", "org-perm"));
    let mut protected = 0;
    for (path, method) in &fns {
        assert_eq!(*method, Method::POST, "{path}: server functions are POST");
        if app::api::is_public(path) {
            continue;
        }
        protected += 1;
        let res = app.post(path, &args, None).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{path} without a session: {res:?}"
        );
        assert!(res.body.contains("Unauthenticated"), "{path}: {}", res.body);
        // Even with arguments that do not parse: the session check comes first.
        let res = app.post(path, "junk=%", None).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{path} junk without a session"
        );
        let res = app.post(path, &args, Some("hris_session=forged")).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{path} with a forged session"
        );
        let res = app.post(path, &args, Some(&nobody)).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{path} without any permission: {res:?}"
        );
    }
    assert!(protected >= 10);
    // Each protected function is usable by some role: an admin or a service-desk agent.
    let admin = app
        .host_sign_in("org-perm", "admin", &["manage_integrations"])
        .await;
    let desk = app
        .host_sign_in("org-perm", "desk", &["service_desk"])
        .await;
    for (path, _) in fns.iter().filter(|(p, _)| !app::api::is_public(p)) {
        let a = app.post(path, &args, Some(&admin)).await.status;
        let d = app.post(path, &args, Some(&desk)).await.status;
        assert!(
            a != StatusCode::FORBIDDEN || d != StatusCode::FORBIDDEN,
            "{path}: no role may call it"
        );
        assert!(
            a == StatusCode::FORBIDDEN || d == StatusCode::FORBIDDEN,
            "{path}: needs neither permission"
        );
    }
    // Other routes: health endpoints are public; the webhook needs Merge's signature, the directory
    // API a host token.
    for (method, path, _) in server::router::EXTRA_ROUTES {
        let res = match *method {
            "GET" => app.get(path, None).await,
            _ => app.post(path, "{}", None).await,
        };
        match *path {
            "/webhooks/merge" => assert_eq!(res.status, StatusCode::UNAUTHORIZED),
            p if p.starts_with("/v1/") => assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{p}"),
            _ => assert_eq!(res.status, StatusCode::OK, "{path}"),
        }
    }
    app.finish().await;
}

/// A snapshot of everything organization `org` has.
async fn rows_of(app: &SecEnv, org: &str) -> String {
    let db = &app.env.state.db;
    let org = &app::model::OrganizationId::from(org);
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        db.organization(org).await.unwrap(),
        db.connections(org).await.unwrap(),
        db.magic_links(org).await.unwrap(),
        db.audit_events(org, 1000).await.unwrap(),
    )
}

async fn another_organizations_ids_are_not_found_and_nothing_changes(backend: Backend) {
    let app = SecEnv::start(backend).await;
    // The victim: a connection, a manual one and a magic link.
    let victim = app
        .host_sign_in("victim", "v-admin", &["manage_integrations"])
        .await;
    let res = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&victim))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let res = app
        .post(
            "/api/connections/start",
            &form(&[("slug", "personio"), ("name", "Victim HR")]),
            Some(&victim),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let conn_id = res.json()["connection_id"].as_str().unwrap().to_string();
    let desk = app
        .host_sign_in("desk-org", "desk", &["service_desk"])
        .await;
    let res = app
        .post(
            "/api/desk/issue_magic_link",
            &form(&[("org_id", "victim"), ("slug", "")]),
            Some(&desk),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let link_id = res.json()["id"].as_str().unwrap().to_string();
    let before = rows_of(&app, "victim").await;
    assert!(before.contains("Victim HR") && before.contains(&link_id));

    // The attackers: an admin of another organization, and the desk naming another organization.
    let attacker = app
        .host_sign_in("attacker", "a-admin", &["manage_integrations"])
        .await;
    let res = app
        .post("/api/hris/set_enabled", "enabled=true", Some(&attacker))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let both = app
        .host_sign_in(
            "attacker",
            "a-both",
            &["manage_integrations", "service_desk"],
        )
        .await;
    let mut checked = 0;
    for (path, _) in server_functions() {
        if app::api::is_public(&path) {
            continue;
        }
        let id_arg = takes_id(&app, &path, &both).await;
        for (who, id) in [
            (&attacker, conn_id.as_str()),
            (&both, conn_id.as_str()),
            (&both, link_id.as_str()),
        ] {
            let res = app
                .post(&path, &form(&universal_args(id, "attacker")), Some(who))
                .await;
            assert!(
                !res.status.is_server_error(),
                "{path} with another organization's id: {res:?}"
            );
            if id_arg && res.status != StatusCode::FORBIDDEN {
                assert_eq!(
                    res.status,
                    StatusCode::NOT_FOUND,
                    "{path} with another organization's id {id}: {res:?}"
                );
                checked += 1;
            }
            assert!(
                !res.body.contains("Victim HR"),
                "{path} shows the victim's data: {}",
                res.body
            );
        }
    }
    assert!(checked >= 5, "functions taking ids were probed: {checked}");
    assert_eq!(
        rows_of(&app, "victim").await,
        before,
        "the victim's rows did not change"
    );

    // Pages: the attacker sees none of the victim's data; without a session nothing either.
    for route in leptos_axum::generate_route_list(app::App) {
        let path = route.path().to_string();
        for cookie in [None, Some(attacker.as_str())] {
            let res = app.get(&path, cookie).await;
            assert!(!res.status.is_server_error(), "{path}: {res:?}");
            assert!(
                !res.body.contains("Victim HR"),
                "{path} leaks the victim's data"
            );
        }
    }
    app.finish().await;
}
