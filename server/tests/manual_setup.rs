//! Manual setup without a browser: the service desk's magic links (issue, poll, webhook, reveal,
//! revoke) and the admin's "Other HR systems" box, against real storage and the Merge sandbox.

mod common;

use app::{
    auth::{dev::demo_identity, Identity},
    domain::{connections as conn, magic_links, webhooks},
    error::AppError,
    model::{ConnectionKind, HealthStatus, MagicLinkStatus},
};
use common::TestEnv;
use reqwest::Method;
use serde_json::json;

fn desk() -> Identity {
    demo_identity("dana").unwrap()
}

/// Opens the magic link as the customer would and completes the dialog; returns the linked account.
async fn customer_connects(env: &TestEnv, url: &str, slug: &str) -> (String, String, String) {
    env.complete_magic_link(url, slug).await;
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    let a = accounts.as_array().unwrap().last().unwrap().clone();
    (
        a["id"].as_str().unwrap().to_string(),
        a["account_token"].as_str().unwrap().to_string(),
        a["end_user_origin_id"].as_str().unwrap().to_string(),
    )
}

/// What Merge's `LinkedAccount.linked` webhook carries (the HTTP receiver verifies and hands it over).
fn linked_event(account_id: &str, token: &str, origin: &str) -> serde_json::Value {
    json!({
        "hook": {"event": "LinkedAccount.linked"},
        "linked_account": {"id": account_id, "end_user_origin_id": origin},
        "data": {"account_token": token, "is_relink": false},
    })
}

#[tokio::test]
async fn the_seed_process_from_magic_link_to_active_connection() {
    let env = TestEnv::start().await;
    let admin = env.admin("Acme").await;
    let link = magic_links::issue(&env.state, &desk(), &admin.org_id, Some("bamboohr"))
        .await
        .unwrap();
    assert_eq!(link.status, MagicLinkStatus::Pending);
    assert_eq!(link.provider_name.as_deref(), Some("BambooHR"));
    let record = env
        .state
        .db
        .magic_link(&admin.org_id, &link.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.expires_at - record.issued_at, 7 * 24 * 3600 * 1000);
    let url = link.url.clone().unwrap();
    assert!(
        !String::from_utf8_lossy(&record.url.blob).contains(&url),
        "the URL is sealed at rest"
    );

    let (account_id, token, origin) = customer_connects(&env, &url, "bamboohr").await;
    assert_eq!(
        origin, record.end_user_origin_id,
        "each magic link has its own origin id"
    );

    // Before the webhook: polling by origin id shows the ID, but there is no token yet.
    let listed = &magic_links::list(&env.state, &desk(), &admin.org_id)
        .await
        .unwrap()[0];
    assert_eq!(
        listed.linked_account_id.as_deref(),
        Some(account_id.as_str())
    );
    assert!(!listed.token_available);
    assert!(matches!(
        magic_links::reveal_token(&env.state, &desk(), &admin.org_id, &link.id).await,
        Err(AppError::Conflict(_))
    ));

    assert_eq!(
        webhooks::handle(&env.state, &linked_event(&account_id, &token, &origin)).await,
        webhooks::Handling::Handled
    );
    let listed = &magic_links::list(&env.state, &desk(), &admin.org_id)
        .await
        .unwrap()[0];
    assert_eq!(
        (listed.status, listed.token_available, listed.url.clone()),
        (MagicLinkStatus::Used, true, None)
    );
    let revealed = magic_links::reveal_token(&env.state, &desk(), &admin.org_id, &link.id)
        .await
        .unwrap();
    assert_eq!(revealed, token);
    let audit = env.state.db.audit_events(&admin.org_id, 5).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.id.as_str()),
        ("magic_link.token_revealed", "dana")
    );

    let view = conn::add_manual(&env.state, &admin, "BambooHR via desk", &account_id, &token)
        .await
        .unwrap();
    assert_eq!(
        (view.kind, view.health),
        (ConnectionKind::Manual, HealthStatus::Ok)
    );
    assert_eq!(view.linked_account_id.as_deref(), Some(account_id.as_str()));
    conn::activate(&env.state, &admin, &view.id).await.unwrap();
    assert!(conn::test(&env.state, &admin, &view.id).await.unwrap().ok);
    assert!(
        matches!(conn::link_again(&env.state, &admin, &view.id).await, Err(AppError::Conflict(m)) if m.contains("service desk"))
    );
}

#[tokio::test]
async fn add_connection_checks_the_token_and_the_id_and_saves_nothing_on_error() {
    let env = TestEnv::start().await;
    let admin = env.admin("Acme").await;
    let link = magic_links::issue(&env.state, &desk(), &admin.org_id, None)
        .await
        .unwrap();
    let (account_id, token, _) =
        customer_connects(&env, link.url.as_ref().unwrap(), "personio").await;
    let field = |r: Result<_, AppError>| match r {
        Err(AppError::Invalid { field, message }) => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    };
    let (f, m) = field(conn::add_manual(&env.state, &admin, "P", "not-the-id", &token).await);
    assert_eq!(f, "account_id");
    assert!(m.contains("does not match"), "{m}");
    let (f, m) = field(conn::add_manual(&env.state, &admin, "P", &account_id, "wrong-token").await);
    assert_eq!(f, "token");
    assert!(m.contains("rejected") && !m.contains("wrong-token"), "{m}");
    env.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "server_error", "count": 3 })),
    )
    .await;
    let (f, m) = field(conn::add_manual(&env.state, &admin, "P", &account_id, &token).await);
    assert_eq!(f, "token");
    assert!(m.contains("not reachable"), "{m}");
    assert!(
        conn::list(&env.state, &admin).await.unwrap().is_empty(),
        "nothing saved"
    );

    conn::add_manual(&env.state, &admin, "P", &account_id, &token)
        .await
        .unwrap();
    assert_eq!(
        field(conn::add_manual(&env.state, &admin, " p ", &account_id, &token).await).0,
        "name"
    );
    assert_eq!(
        field(conn::add_manual(&env.state, &admin, "Q", &account_id, &token).await).0,
        "account_id"
    );
}

#[tokio::test]
async fn a_revoked_link_is_never_accepted() {
    let env = TestEnv::start().await;
    let admin = env.admin("Acme").await;
    let link = magic_links::issue(&env.state, &desk(), &admin.org_id, None)
        .await
        .unwrap();
    let revoked = magic_links::revoke(&env.state, &desk(), &admin.org_id, &link.id)
        .await
        .unwrap();
    assert_eq!(
        (revoked.status, revoked.url),
        (MagicLinkStatus::Revoked, None)
    );
    assert!(matches!(
        magic_links::revoke(&env.state, &desk(), &admin.org_id, &link.id).await,
        Err(AppError::Conflict(_))
    ));
    let (account_id, token, origin) =
        customer_connects(&env, link.url.as_ref().unwrap(), "hibob").await;
    assert_eq!(
        webhooks::handle(&env.state, &linked_event(&account_id, &token, &origin)).await,
        webhooks::Handling::Handled
    );
    let listed = &magic_links::list(&env.state, &desk(), &admin.org_id)
        .await
        .unwrap()[0];
    assert_eq!(
        (listed.status, listed.token_available),
        (MagicLinkStatus::Revoked, false)
    );
    assert!(
        magic_links::reveal_token(&env.state, &desk(), &admin.org_id, &link.id)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_desk_replaces_a_token_only_with_one_of_the_same_account() {
    let env = TestEnv::start().await;
    let admin = env.admin("Acme").await;
    let first = magic_links::issue(&env.state, &desk(), &admin.org_id, None)
        .await
        .unwrap();
    let (account_id, token, _) =
        customer_connects(&env, first.url.as_ref().unwrap(), "personio").await;
    let second = magic_links::issue(&env.state, &desk(), &admin.org_id, None)
        .await
        .unwrap();
    let (_, other_token, _) = customer_connects(&env, second.url.as_ref().unwrap(), "hibob").await;
    let view = conn::add_manual(&env.state, &admin, "Personio", &account_id, &token)
        .await
        .unwrap();
    let r = conn::replace_token(&env.state, &desk(), &admin.org_id, &view.id, &other_token).await;
    assert!(
        matches!(&r, Err(AppError::Invalid { field, .. }) if field == "token"),
        "{r:?}"
    );
    conn::replace_token(&env.state, &desk(), &admin.org_id, &view.id, &token)
        .await
        .unwrap();
    assert!(conn::test(&env.state, &admin, &view.id).await.unwrap().ok);
}
