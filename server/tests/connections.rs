//! The direct-connection rules, driven without a browser: real storage, the real Merge client and
//! the Merge sandbox over HTTP.

mod common;

use app::{
    domain::connections as conn,
    error::AppError,
    model::{HealthStatus, Lifecycle},
};
use common::TestEnv;
use reqwest::Method;
use serde_json::json;

async fn linked(
    env: &TestEnv,
    who: &app::auth::Identity,
    slug: &str,
    name: &str,
) -> app::model::ConnectionView {
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

#[tokio::test]
async fn names_are_trimmed_bounded_and_unique_per_organization() {
    let env = TestEnv::start().await;
    let acme = env.admin("Acme").await;
    let globex = env.admin("Globex").await;
    let err = |r: Result<_, AppError>| match r {
        Err(AppError::Invalid { field, message }) => (field, message),
        other => panic!("expected a name error, got {other:?}"),
    };
    assert_eq!(
        err(conn::start_direct(&env.state, &acme, "personio", "  ").await).0,
        "name"
    );
    assert_eq!(
        err(conn::start_direct(&env.state, &acme, "personio", &"x".repeat(81)).await).1,
        "Use at most 80 characters."
    );
    let s = conn::start_direct(&env.state, &acme, "personio", "  HR main  ")
        .await
        .unwrap();
    let list = conn::list(&env.state, &acme).await.unwrap();
    assert_eq!(
        (list[0].name.as_str(), list[0].lifecycle),
        ("HR main", Lifecycle::PendingLink)
    );
    assert_eq!(list[0].id, s.connection_id);
    assert!(
        err(conn::start_direct(&env.state, &acme, "hibob", "hr MAIN").await)
            .1
            .contains("already exists")
    );
    conn::start_direct(&env.state, &globex, "hibob", "HR main")
        .await
        .unwrap();
    let unknown = conn::start_direct(&env.state, &acme, "no-such-system", "Other").await;
    assert_eq!(err(unknown).0, "slug");
}

#[tokio::test]
async fn nothing_can_be_connected_while_the_integration_is_off() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    app::domain::organization::set_hris_enabled(&env.state.db, &who, false)
        .await
        .unwrap();
    assert!(matches!(
        conn::start_direct(&env.state, &who, "personio", "P").await,
        Err(AppError::Conflict(_))
    ));
}

#[tokio::test]
async fn linking_stores_the_token_sealed_and_reads_the_account() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let view = linked(&env, &who, "personio", "Personio").await;
    assert_eq!(view.lifecycle, Lifecycle::Linked);
    assert_eq!(view.health, HealthStatus::Ok);
    assert_eq!(view.provider_status.as_deref(), Some("COMPLETE"));
    assert_eq!(view.provider_name.as_deref(), Some("Personio"));
    assert!(!view.enabled);
    let record = env
        .state
        .db
        .connection(&who.org_id, &view.id)
        .await
        .unwrap()
        .unwrap();
    let token = env
        .state
        .keyring
        .open(record.account_token.as_ref().unwrap())
        .unwrap();
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    let account = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == view.linked_account_id.as_deref().unwrap())
        .unwrap()
        .clone();
    assert_eq!(account["account_token"], token.as_str());
    assert!(
        !serde_json::to_string(&view).unwrap().contains(&token),
        "the view never carries the token"
    );
    let actions = env.audit_actions(&who.org_id, 10).await;
    assert_eq!(
        actions[..2],
        [
            "connection.linked".to_string(),
            "connection.created".to_string()
        ]
    );
}

#[tokio::test]
async fn a_fault_during_the_exchange_leaves_the_connection_unfinished() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let session = conn::start_direct(&env.state, &who, "gusto", "Gusto")
        .await
        .unwrap();
    let public = env
        .complete_link(&session.link_token, json!({ "integration": "gusto" }))
        .await;
    env.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "server_error", "count": 3 })),
    )
    .await;
    let r = conn::finish_link(&env.state, &who, &session.connection_id, &public).await;
    assert!(
        matches!(&r, Err(AppError::Provider(m)) if m.contains("not reachable")),
        "{r:?}"
    );
    let c = &conn::list(&env.state, &who).await.unwrap()[0];
    assert_eq!(c.lifecycle, Lifecycle::PendingLink);
    assert_eq!(c.linked_account_id, None);
    // Once the provider is back, the same public token still finishes the link.
    conn::finish_link(&env.state, &who, &session.connection_id, &public)
        .await
        .unwrap();
}

#[tokio::test]
async fn test_connection_reports_revoked_tokens_and_relink_restores() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let view = linked(&env, &who, "personio", "Personio").await;
    let account = view.linked_account_id.clone().unwrap();
    assert!(conn::test(&env.state, &who, &view.id).await.unwrap().ok);

    env.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "token_revoked", "account_id": account })),
    )
    .await;
    let outcome = conn::test(&env.state, &who, &view.id).await.unwrap();
    assert!(!outcome.ok);
    assert_eq!(outcome.connection.health, HealthStatus::RelinkNeeded);
    assert!(outcome.message.contains("refused"), "{}", outcome.message);

    let session = conn::link_again(&env.state, &who, &view.id).await.unwrap();
    let public = env.complete_link(&session.link_token, json!({})).await;
    let relinked = conn::finish_link(&env.state, &who, &view.id, &public)
        .await
        .unwrap();
    assert_eq!(
        relinked.linked_account_id.as_deref(),
        Some(account.as_str())
    );
    let outcome = conn::test(&env.state, &who, &view.id).await.unwrap();
    assert!(outcome.ok, "{}", outcome.message);
}

#[tokio::test]
async fn relinking_to_another_tenant_is_refused_and_keeps_the_credentials() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let view = linked(&env, &who, "bamboohr", "BambooHR").await;
    let before = env
        .state
        .db
        .connection(&who.org_id, &view.id)
        .await
        .unwrap()
        .unwrap();
    let session = conn::link_again(&env.state, &who, &view.id).await.unwrap();
    let public = env
        .complete_link(
            &session.link_token,
            json!({ "tenant": "another-company.example" }),
        )
        .await;
    let r = conn::finish_link(&env.state, &who, &view.id, &public).await;
    assert!(
        matches!(&r, Err(AppError::Conflict(m)) if m.contains("different HR account")),
        "{r:?}"
    );
    let after = env
        .state
        .db
        .connection(&who.org_id, &view.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.linked_account_id, before.linked_account_id);
    assert_eq!(after.account_token, before.account_token);
    assert!(conn::test(&env.state, &who, &view.id).await.unwrap().ok);
    // The other tenant's new linked account is not left alive at Merge (issue 11.9).
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, [view.linked_account_id.as_deref().unwrap()]);
}

#[tokio::test]
async fn one_connection_is_active_and_deactivation_keeps_credentials() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let a = linked(&env, &who, "personio", "A").await;
    let b = linked(&env, &who, "hibob", "B").await;
    let pending = conn::start_direct(&env.state, &who, "workday", "C")
        .await
        .unwrap();
    assert!(matches!(
        conn::activate(&env.state, &who, &pending.connection_id).await,
        Err(AppError::Conflict(_))
    ));
    conn::activate(&env.state, &who, &a.id).await.unwrap();
    conn::activate(&env.state, &who, &b.id).await.unwrap();
    let enabled: Vec<(String, bool)> = conn::list(&env.state, &who)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.enabled))
        .collect();
    assert_eq!(
        enabled,
        [("A".into(), false), ("B".into(), true), ("C".into(), false)]
    );
    conn::deactivate(&env.state, &who, &b.id).await.unwrap();
    assert!(
        conn::test(&env.state, &who, &b.id).await.unwrap().ok,
        "credentials kept"
    );
    let actions = env.audit_actions(&who.org_id, 3).await;
    assert_eq!(
        actions,
        [
            "connection.tested",
            "connection.deactivated",
            "connection.activated"
        ]
    );
}

#[tokio::test]
async fn delete_revokes_at_the_provider_first_and_keeps_everything_if_that_fails() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let view = linked(&env, &who, "workday", "Workday").await;
    let account = view.linked_account_id.clone().unwrap();
    env.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "server_error", "count": 1 })),
    )
    .await;
    let r = conn::delete(&env.state, &who, &view.id).await;
    assert!(
        matches!(&r, Err(AppError::Provider(m)) if m.starts_with("The connection was not deleted.")),
        "{r:?}"
    );
    assert_eq!(conn::list(&env.state, &who).await.unwrap().len(), 1);
    conn::delete(&env.state, &who, &view.id).await.unwrap();
    assert!(conn::list(&env.state, &who).await.unwrap().is_empty());
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    assert!(
        !accounts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == account.as_str()),
        "revoked at the provider"
    );
}

#[tokio::test]
async fn another_organization_cannot_reach_a_connection() {
    let env = TestEnv::start().await;
    let acme = env.admin("Acme").await;
    let globex = env.admin("Globex").await;
    let view = linked(&env, &acme, "personio", "Personio").await;
    for r in [
        conn::test(&env.state, &globex, &view.id).await.map(|_| ()),
        conn::activate(&env.state, &globex, &view.id)
            .await
            .map(|_| ()),
        conn::deactivate(&env.state, &globex, &view.id)
            .await
            .map(|_| ()),
        conn::delete(&env.state, &globex, &view.id)
            .await
            .map(|_| ()),
        conn::link_again(&env.state, &globex, &view.id)
            .await
            .map(|_| ()),
        conn::finish_link(&env.state, &globex, &view.id, "tok")
            .await
            .map(|_| ()),
    ] {
        assert_eq!(r, Err(AppError::NotFound));
    }
    let still = &conn::list(&env.state, &acme).await.unwrap()[0];
    assert_eq!(
        (still.lifecycle, still.enabled, still.health),
        (Lifecycle::Linked, false, HealthStatus::Ok)
    );
}

/// Issue 11.1: a public token from another organization's Link session is refused, and the account
/// it exchanged for is not kept (here or at Merge).
#[tokio::test]
async fn a_public_token_of_another_link_session_is_refused_and_not_kept() {
    let env = TestEnv::start().await;
    let acme = env.admin("Acme").await;
    let globex = env.admin("Globex").await;
    let mine = conn::start_direct(&env.state, &acme, "personio", "Personio")
        .await
        .unwrap();
    let theirs = conn::start_direct(&env.state, &globex, "personio", "Personio")
        .await
        .unwrap();
    let foreign = env
        .complete_link(&theirs.link_token, json!({ "integration": "personio" }))
        .await;
    let r = conn::finish_link(&env.state, &acme, &mine.connection_id, &foreign).await;
    assert_eq!(
        r,
        Err(AppError::Conflict(
            app::i18n::EN.link_not_this_connection.into()
        ))
    );
    let c = &conn::list(&env.state, &acme).await.unwrap()[0];
    assert_eq!(
        (c.lifecycle, c.linked_account_id.clone()),
        (Lifecycle::PendingLink, None)
    );
    let origin = format!("hris-connect-{}", theirs.connection_id);
    let accounts = env.control(Method::GET, "/accounts", None).await["results"].clone();
    assert!(
        !accounts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["end_user_origin_id"] == origin.as_str()),
        "the exchanged account was deleted at Merge: {accounts}"
    );
    assert_eq!(
        env.audit_actions(&acme.org_id, 1).await,
        ["connection.link_refused"]
    );
    // This connection's own Link session still finishes it.
    let own = env
        .complete_link(&mine.link_token, json!({ "integration": "personio" }))
        .await;
    let view = conn::finish_link(&env.state, &acme, &mine.connection_id, &own)
        .await
        .unwrap();
    assert_eq!(view.lifecycle, Lifecycle::Linked);
}

/// Issue 11.2: when Merge no longer knows the account or refuses its token, the access is already
/// gone: Delete removes the connection, says so and audits it (instead of 502 on every try).
#[tokio::test]
async fn a_connection_whose_account_is_gone_at_merge_can_be_deleted() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let revoked = linked(&env, &who, "personio", "Revoked").await;
    let removed = linked(&env, &who, "hibob", "Removed").await;
    env.control(
        Method::POST,
        "/faults",
        Some(
            json!({ "kind": "token_revoked", "account_id": revoked.linked_account_id.as_deref() }),
        ),
    )
    .await;
    env.control(
        Method::DELETE,
        &format!(
            "/accounts/{}",
            removed.linked_account_id.as_deref().unwrap()
        ),
        None,
    )
    .await;
    for c in [&revoked, &removed] {
        assert_eq!(
            conn::delete(&env.state, &who, &c.id).await,
            Ok(app::model::Deletion::AlreadyGoneAtProvider),
            "{}",
            c.name
        );
    }
    assert!(conn::list(&env.state, &who).await.unwrap().is_empty());
    let events = env.state.db.audit_events(&who.org_id, 1).await.unwrap();
    assert_eq!(events[0].action.as_str(), "connection.deleted");
    assert!(events[0].detail.contains("already gone"), "{:?}", events[0]);
}

/// Delete racing delete: one deletes; the other is told the connection was already deleted (not
/// "not deleted" while the row is gone).
#[tokio::test]
async fn delete_racing_delete_has_one_winner() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let c = linked(&env, &who, "personio", "Twice").await;
    let (r1, r2) = tokio::join!(
        conn::delete(&env.state, &who, &c.id),
        conn::delete(&env.state, &who, &c.id)
    );
    let mut results = [r1, r2];
    results.sort_by_key(|r| r.is_err());
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(&results[1], Err(AppError::Conflict(m)) if m == app::i18n::EN.already_deleted)
            || results[1] == Err(AppError::NotFound),
        "{results:?}"
    );
    assert!(conn::list(&env.state, &who).await.unwrap().is_empty());
}

/// Issue 11.5: when Merge fails the link-token call, nothing is written, and the same name can be
/// used again right away.
#[tokio::test]
async fn a_failed_start_leaves_nothing_behind() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    // The directory is cached by now, so the fault below hits the link-token call.
    conn::start_direct(&env.state, &who, "hibob", "Warm-up")
        .await
        .unwrap();
    env.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "server_error", "count": 1 })),
    )
    .await;
    let r = conn::start_direct(&env.state, &who, "personio", "Personio").await;
    assert!(matches!(&r, Err(AppError::Provider(_))), "{r:?}");
    let names = |list: Vec<app::model::ConnectionView>| -> Vec<String> {
        list.into_iter().map(|c| c.name).collect()
    };
    assert_eq!(
        names(conn::list(&env.state, &who).await.unwrap()),
        ["Warm-up"]
    );
    assert_eq!(
        env.audit_actions(&who.org_id, 1).await,
        ["connection.created"],
        "only the warm-up's: no audit event for a connection that was not made"
    );
    assert_eq!(
        env.state.db.audit_events(&who.org_id, 1).await.unwrap()[0].detail,
        "Started connecting Warm-up (hibob)"
    );
    let s = conn::start_direct(&env.state, &who, "personio", "Personio")
        .await
        .unwrap();
    assert_eq!(
        conn::list(&env.state, &who).await.unwrap()[1].id,
        s.connection_id
    );
}

/// Issue 11.9: an unknown or malformed public token is the caller's error (4xx with a message),
/// not a provider failure; the connection stays unfinished.
#[tokio::test]
async fn an_unknown_or_malformed_public_token_is_refused_as_invalid() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    let s = conn::start_direct(&env.state, &who, "personio", "Personio")
        .await
        .unwrap();
    for token in ["no-such-public-token", "not a token/../x"] {
        let r = conn::finish_link(&env.state, &who, &s.connection_id, token).await;
        assert_eq!(
            r.as_ref()
                .map_err(|e| (e.status_code(), e.clone()))
                .unwrap_err(),
            (
                422,
                AppError::invalid("public_token", app::i18n::EN.link_result_invalid)
            ),
            "{token}"
        );
    }
    let c = &conn::list(&env.state, &who).await.unwrap()[0];
    assert_eq!(c.lifecycle, Lifecycle::PendingLink);
}

/// Issue 11.9: names with text-direction overrides or zero-width characters are refused, so a
/// name cannot pose as another one.
#[tokio::test]
async fn names_with_invisible_or_direction_characters_are_refused() {
    let env = TestEnv::start().await;
    let who = env.admin("Acme").await;
    for name in [
        "HR\u{202E}niam",
        "Pers\u{200B}onio",
        "\u{2066}HR\u{2069}",
        "HR\u{FEFF}",
    ] {
        let r = conn::start_direct(&env.state, &who, "personio", name).await;
        assert_eq!(
            r.map(|_| ()),
            Err(AppError::invalid("name", app::i18n::EN.name_invisible)),
            "{name:?}"
        );
    }
    assert!(conn::list(&env.state, &who).await.unwrap().is_empty());
    // Ordinary letters of other scripts are fine.
    conn::start_direct(
        &env.state,
        &who,
        "personio",
        "Personalabteilung Zürich – 東京",
    )
    .await
    .unwrap();
}
