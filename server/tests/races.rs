//! Two writers at once (issue 10 item 4), on SQLite and on PostgreSQL: two server instances share
//! one database (each with its own connection pool), and the same operation runs on both at the
//! same moment. Exactly one wins; the other gets a clear error, and the database holds what the
//! winner did.

mod common;
mod support;

use app::{
    auth::Identity,
    domain::connections as conn,
    error::AppError,
    i18n::EN,
    model::{ConnectionId, ConnectionView},
    state::AppState,
    storage::Db,
};
use serde_json::json;
use support::{Backend, SecEnv};

on_both_backends!(
    two_activations_at_once_leave_one_active,
    an_activation_racing_a_delete_never_revives_the_connection,
    two_connections_with_the_same_name_at_once_make_one,
    two_manual_adds_with_the_same_name_at_once_make_one,
);

/// A second server instance: the same configuration and provider, its own pool on the same database.
async fn second_instance(app: &SecEnv) -> AppState {
    let url = app
        .database_url()
        .unwrap_or_else(|| format!("sqlite://{}/hris.db", app.env.data_dir().display()));
    AppState {
        db: Db::connect(&url).await.unwrap(),
        ..app.env.state.clone()
    }
}

async fn linked(env: &common::TestEnv, who: &Identity, slug: &str, name: &str) -> ConnectionView {
    let session = conn::start_direct(&env.state, who, slug, name)
        .await
        .unwrap();
    let public = env
        .complete_link(&session.link_token, json!({ "integration": slug }))
        .await;
    conn::finish_link(&env.state, who, &session.connection_id, &public)
        .await
        .unwrap()
}

async fn active(state: &AppState, who: &Identity) -> Vec<String> {
    conn::list(state, who)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| c.name)
        .collect()
}

/// One result is `Ok`, the other the error `expected`; returns the index of the winner.
fn one_winner<T: std::fmt::Debug>(results: [Result<T, AppError>; 2], expected: &AppError) -> usize {
    let winners: Vec<usize> = (0..2).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {results:?}");
    let loser = &results[1 - winners[0]];
    assert_eq!(loser.as_ref().unwrap_err(), expected, "{results:?}");
    winners[0]
}

async fn two_activations_at_once_leave_one_active(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let (one, env) = (&app.env.state, &app.env);
    let two = second_instance(&app).await;
    let who = env.admin("Acme").await;
    let expected = AppError::Conflict(EN.activated_meanwhile.into());
    // Deterministically: instance two is activating B (its transaction is open) while instance
    // one decides to activate A, seeing nothing active; two commits first, one must not win too.
    let a = linked(env, &who, "personio", "A").await;
    let b = linked(env, &who, "hibob", "B").await;
    let mut tx = two.db.begin().await.unwrap();
    tx.activate_connection(&who.org_id, &b.id, None)
        .await
        .unwrap();
    let activation = tokio::spawn({
        let (state, who, id) = (one.clone(), who.clone(), a.id.clone());
        async move { conn::activate(&state, &who, &id).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();
    assert_eq!(
        activation.await.unwrap().map(|v| v.name),
        Err(expected.clone())
    );
    assert_eq!(active(one, &who).await, ["B"]);
    // Trying again (now knowing B is active) replaces it.
    conn::activate(one, &who, &a.id).await.unwrap();
    assert_eq!(active(&two, &who).await, ["A"]);
    conn::deactivate(one, &who, &a.id).await.unwrap();

    // Both at once through the domain: whatever the interleaving, never two active; a loser gets
    // the clear conflict, and two successes only ever happen one after the other.
    for round in 0..3 {
        let a = linked(env, &who, "personio", &format!("A{round}")).await;
        let b = linked(env, &who, "hibob", &format!("B{round}")).await;
        let (ra, rb) = tokio::join!(
            conn::activate(one, &who, &a.id),
            conn::activate(&two, &who, &b.id)
        );
        let results = [ra.map(|v| v.name), rb.map(|v| v.name)];
        let winners: Vec<String> = results.iter().filter_map(|r| r.clone().ok()).collect();
        for r in &results {
            if let Err(e) = r {
                assert_eq!(e, &expected, "round {round}: {results:?}");
            }
        }
        let now_active = active(one, &who).await;
        assert_eq!(now_active.len(), 1, "round {round}: {results:?}");
        if winners.len() == 2 {
            // One after the other: the second deactivated the first.
            let actions = env.audit_actions(&who.org_id, 3).await;
            assert_eq!(
                actions,
                [
                    "connection.activated",
                    "connection.deactivated",
                    "connection.activated"
                ],
                "round {round}"
            );
        } else {
            assert_eq!(winners, now_active, "round {round}");
        }
        let id = if now_active[0] == a.name {
            &a.id
        } else {
            &b.id
        };
        conn::deactivate(one, &who, id).await.unwrap();
    }
    two.db.close().await;
    app.finish().await;
}

/// An activation decided before a concurrent delete committed must not succeed after it: it either
/// happened first (and the delete then removed the active connection, audited in that order) or it
/// fails with "changed meanwhile". The connection is gone either way.
async fn an_activation_racing_a_delete_never_revives_the_connection(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let (one, env) = (&app.env.state, &app.env);
    let two = second_instance(&app).await;
    let who = env.admin("Acme").await;
    for round in 0..3 {
        let c = linked(env, &who, "personio", &format!("C{round}")).await;
        let (activated, deleted) = tokio::join!(
            conn::activate(one, &who, &c.id),
            conn::delete(&two, &who, &c.id)
        );
        deleted.unwrap();
        match activated {
            Ok(_) => {
                let actions = env.audit_actions(&who.org_id, 2).await;
                assert_eq!(actions, ["connection.deleted", "connection.activated"]);
            }
            Err(e) => assert!(
                e == AppError::Conflict(EN.changed_meanwhile.into()) || e == AppError::NotFound,
                "round {round}: {e:?}"
            ),
        }
        assert!(conn::list(one, &who).await.unwrap().is_empty());
    }
    // Deterministically: the activation read the connection, the delete committed, then the
    // activation writes.
    let c = linked(env, &who, "personio", "Late").await;
    let mut tx = two.db.begin().await.unwrap();
    tx.delete_connection(&who.org_id, &c.id).await.unwrap();
    let activation = tokio::spawn({
        let (state, who, id) = (one.clone(), who.clone(), c.id.clone());
        async move { conn::activate(&state, &who, &id).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();
    let r = activation.await.unwrap();
    assert!(
        r == Err(AppError::Conflict(EN.changed_meanwhile.into())) || r == Err(AppError::NotFound),
        "{r:?}"
    );
    assert!(active(one, &who).await.is_empty());
    two.db.close().await;
    app.finish().await;
}

async fn two_connections_with_the_same_name_at_once_make_one(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let (one, env) = (&app.env.state, &app.env);
    let two = second_instance(&app).await;
    let who = env.admin("Acme").await;
    let (r1, r2) = tokio::join!(
        conn::start_direct(one, &who, "personio", "HR"),
        conn::start_direct(&two, &who, "hibob", "hr")
    );
    let taken = |name: &str| AppError::invalid("name", (EN.name_taken)(name));
    let results = [r1.map(|s| s.connection_id), r2.map(|s| s.connection_id)];
    let loser_name = if results[0].is_ok() { "hr" } else { "HR" };
    let winner = one_winner(results.clone(), &taken(loser_name));
    let list = conn::list(one, &who).await.unwrap();
    let ids: Vec<&ConnectionId> = list.iter().map(|c| &c.id).collect();
    assert_eq!(ids, [results[winner].as_ref().unwrap()]);
    assert_eq!(
        env.audit_actions(&who.org_id, 10)
            .await
            .iter()
            .filter(|a| *a == "connection.created")
            .count(),
        1,
        "one connection, one audit event"
    );
    two.db.close().await;
    app.finish().await;
}

async fn two_manual_adds_with_the_same_name_at_once_make_one(backend: Backend) {
    let app = SecEnv::start(backend).await;
    let (one, env) = (&app.env.state, &app.env);
    let two = second_instance(&app).await;
    let who = env.admin("Acme").await;
    // Two accounts linked through the service desk's magic links, as in real manual setup.
    let desk = app::auth::dev::demo_identity("dana").unwrap();
    let mut accounts = Vec::new();
    for slug in ["personio", "hibob"] {
        let link = app::domain::magic_links::issue(one, &desk, &who.org_id, Some(slug))
            .await
            .unwrap();
        env.complete_magic_link(&link.url.unwrap(), slug).await;
        let all = env.control(reqwest::Method::GET, "/accounts", None).await["results"].clone();
        let a = all.as_array().unwrap().last().unwrap().clone();
        accounts.push((
            a["id"].as_str().unwrap().to_string(),
            a["account_token"].as_str().unwrap().to_string(),
        ));
    }
    let (r1, r2) = tokio::join!(
        conn::add_manual(one, &who, "Manual", &accounts[0].0, &accounts[0].1),
        conn::add_manual(&two, &who, "MANUAL", &accounts[1].0, &accounts[1].1)
    );
    let results = [r1.map(|v| v.name), r2.map(|v| v.name)];
    let loser_name = if results[0].is_ok() {
        "MANUAL"
    } else {
        "Manual"
    };
    let winner = one_winner(
        results.clone(),
        &AppError::invalid("name", (EN.name_taken)(loser_name)),
    );
    let names: Vec<String> = conn::list(one, &who)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, [results[winner].clone().unwrap()]);
    two.db.close().await;
    app.finish().await;
}
