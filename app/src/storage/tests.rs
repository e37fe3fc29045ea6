//! The storage suite, run against SQLite and PostgreSQL alike. Each test gets its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database dropped afterwards), so runs never see
//! each other's rows. PostgreSQL is at `TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).

use super::*;
use crate::{
    crypto::Keyring,
    model::{ConnectionId, ConnectionKind, HealthStatus, Lifecycle, MagicLinkId, OrganizationId},
};

struct TestDb {
    db: Db,
    drop_pg: Option<(String, String)>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let file =
            std::env::temp_dir().join(format!("hris-test-{}.db", uuid::Uuid::new_v4().simple()));
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("sqlite opens");
        assert_eq!(db.backend(), Backend::Sqlite);
        TestDb {
            db,
            drop_pg: None,
            sqlite_file: Some(file),
        }
    }

    async fn postgres() -> TestDb {
        use sqlx::Connection;
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("hris_test_{}", uuid::Uuid::new_v4().simple());
        install_default_drivers();
        let mut admin = sqlx::AnyConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL at TEST_DATABASE_URL must be reachable");
        sqlx::query(sql!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let db = Db::connect(&with_database(&admin_url, &name))
            .await
            .expect("postgres opens");
        assert_eq!(db.backend(), Backend::Postgres);
        TestDb {
            db,
            drop_pg: Some((admin_url, name)),
            sqlite_file: None,
        }
    }

    async fn finish(self) {
        use sqlx::Connection;
        self.db.close().await;
        if let Some((admin_url, name)) = self.drop_pg {
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
            sqlx::query(sql!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
        if let Some(file) = self.sqlite_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let t = super::TestDb::sqlite().await;
                super::$case(&t.db).await;
                t.finish().await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let t = super::TestDb::postgres().await;
                super::$case(&t.db).await;
                t.finish().await;
            })+
        }
    };
}

on_both_backends!(
    organizations_are_created_once_and_toggle,
    sessions_expire_and_extend,
    a_host_token_is_claimed_once,
    connection_names_are_unique_within_an_organization,
    one_connection_is_active_at_a_time,
    rows_of_another_organization_are_out_of_reach,
    account_tokens_are_stored_sealed,
    magic_links_are_revoked_or_used_once,
    audit_events_come_back_newest_first,
    migrations_can_run_twice,
    activation_races_have_one_winner,
    a_write_to_a_deleted_row_is_an_error,
    a_transaction_not_committed_leaves_nothing,
);

fn keyring() -> Keyring {
    Keyring::parse(&Keyring::generate_spec("test-1")).unwrap()
}

fn org(id: &str) -> OrganizationId {
    id.into()
}

fn cid(id: &str) -> ConnectionId {
    id.into()
}

fn new_connection(org: &str, id: &str, name: &str) -> NewConnection {
    NewConnection {
        id: id.into(),
        org_id: org.into(),
        kind: ConnectionKind::Direct,
        provider_slug: Some("personio".into()),
        display_name: name.into(),
        end_user_origin_id: format!("origin-{id}"),
        linked_account_id: None,
        account_token: None,
        account_token_last4: None,
        lifecycle: Lifecycle::PendingLink,
    }
}

/// A linked connection (only those can be activated).
fn linked_connection(org: &str, id: &str, name: &str) -> NewConnection {
    NewConnection {
        lifecycle: Lifecycle::Linked,
        linked_account_id: Some(format!("la-{id}").into()),
        ..new_connection(org, id, name)
    }
}

/// Runs one write in its own transaction.
async fn insert(db: &Db, c: &NewConnection) -> StoreResult<ConnectionRecord> {
    let mut tx = db.begin().await?;
    let r = tx.insert_connection(c).await?;
    tx.commit().await?;
    Ok(r)
}

async fn activate(
    db: &Db,
    o: &str,
    id: &str,
    expected: Option<&str>,
) -> StoreResult<Vec<ConnectionId>> {
    let mut tx = db.begin().await?;
    let expected = expected.map(cid);
    let r = tx
        .activate_connection(&org(o), &cid(id), expected.as_ref())
        .await?;
    tx.commit().await?;
    Ok(r)
}

async fn two_orgs(db: &Db) {
    db.upsert_organization(&org("acme"), "Acme GmbH")
        .await
        .unwrap();
    db.upsert_organization(&org("globex"), "Globex Ltd")
        .await
        .unwrap();
}

async fn organizations_are_created_once_and_toggle(db: &Db) {
    let o = db.upsert_organization(&org("acme"), "Acme").await.unwrap();
    assert!(!o.hris_enabled);
    let mut tx = db.begin().await.unwrap();
    tx.set_hris_enabled(&org("acme"), true).await.unwrap();
    tx.commit().await.unwrap();
    let again = db
        .upsert_organization(&org("acme"), "Acme GmbH")
        .await
        .unwrap();
    assert!(again.hris_enabled, "an upsert keeps the flag");
    assert_eq!(again.name, "Acme GmbH", "an upsert refreshes the name");
    assert_eq!(again.created_at, o.created_at);
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        tx.set_hris_enabled(&org("nobody"), true).await,
        Err(StoreError::Missing)
    ));
    drop(tx);
    db.upsert_organization(&org("a-first"), "Aardvark AG")
        .await
        .unwrap();
    let names: Vec<String> = db
        .organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Aardvark AG", "Acme GmbH"]);
    assert_eq!(db.organization(&org("nobody")).await.unwrap(), None);
}

async fn sessions_expire_and_extend(db: &Db) {
    db.upsert_organization(&org("acme"), "Acme").await.unwrap();
    let s = SessionRecord {
        id_hash: "h1".into(),
        org_id: "acme".into(),
        user_id: "alice".into(),
        user_name: "Alice".into(),
        locale: "en".into(),
        permissions: "manage_integrations".into(),
        created_at: 1_000,
        last_seen_at: 1_000,
        expires_at: 2_000,
    };
    db.insert_session(&s).await.unwrap();
    assert_eq!(db.live_session("h1", 1_999).await.unwrap(), Some(s.clone()));
    assert_eq!(db.live_session("h1", 2_000).await.unwrap(), None);
    assert_eq!(
        db.live_session_with_org_name("h1", 1_999).await.unwrap(),
        Some((s.clone(), "Acme".to_string()))
    );
    assert_eq!(
        db.live_session_with_org_name("h1", 2_000).await.unwrap(),
        None
    );
    db.touch_session("h1", 1_500, 3_000).await.unwrap();
    assert_eq!(
        db.live_session("h1", 2_500)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        1_500
    );
    assert_eq!(db.purge_expired_sessions(2_999).await.unwrap(), 0);
    assert_eq!(db.purge_expired_sessions(3_000).await.unwrap(), 1);
    assert_eq!(db.live_session("h1", 0).await.unwrap(), None);
}

async fn a_host_token_is_claimed_once(db: &Db) {
    assert!(db.claim_host_token("t1", 5_000).await.unwrap());
    assert!(!db.claim_host_token("t1", 5_000).await.unwrap(), "a replay");
    assert!(db.claim_host_token("t2", 9_000).await.unwrap());
    assert_eq!(db.purge_used_host_tokens(4_999).await.unwrap(), 0);
    assert_eq!(db.purge_used_host_tokens(5_000).await.unwrap(), 1);
    // Forgotten only once it could no longer verify; t2 is still remembered.
    assert!(!db.claim_host_token("t2", 9_000).await.unwrap());
}

async fn connection_names_are_unique_within_an_organization(db: &Db) {
    two_orgs(db).await;
    insert(db, &new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    assert!(db
        .connection_name_taken(&org("acme"), "  personio ")
        .await
        .unwrap());
    assert!(!db
        .connection_name_taken(&org("globex"), "Personio")
        .await
        .unwrap());
    let dup = insert(db, &new_connection("acme", "c2", "PERSONIO")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    insert(db, &new_connection("globex", "c3", "Personio"))
        .await
        .unwrap();
    assert_eq!(
        db.connections(&org("acme")).await.unwrap().len(),
        1,
        "the failed insert left nothing"
    );
}

async fn one_connection_is_active_at_a_time(db: &Db) {
    two_orgs(db).await;
    for (id, name) in [("a", "A"), ("b", "B")] {
        insert(db, &linked_connection("acme", id, name))
            .await
            .unwrap();
    }
    insert(db, &new_connection("acme", "p", "Pending"))
        .await
        .unwrap();
    insert(db, &linked_connection("globex", "g", "G"))
        .await
        .unwrap();
    activate(db, "globex", "g", None).await.unwrap();
    assert!(activate(db, "acme", "a", None).await.unwrap().is_empty());
    assert_eq!(
        activate(db, "acme", "b", Some("a")).await.unwrap(),
        [cid("a")]
    );
    let enabled: Vec<(ConnectionId, bool)> = db
        .connections(&org("acme"))
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.enabled))
        .collect();
    assert_eq!(
        enabled,
        vec![(cid("a"), false), (cid("b"), true), (cid("p"), false)]
    );
    assert!(
        db.connection(&org("globex"), &cid("g"))
            .await
            .unwrap()
            .unwrap()
            .enabled,
        "other organizations untouched"
    );
    assert!(
        matches!(
            activate(db, "acme", "p", Some("b")).await,
            Err(StoreError::Missing)
        ),
        "an unfinished connection cannot be activated"
    );
    // The database itself refuses a second active connection, whatever the code does.
    let second = sqlx::query("UPDATE connections SET enabled = 1 WHERE id = 'a'")
        .execute(&db.pool)
        .await;
    assert!(
        matches!(
            second.map_err(StoreError::from),
            Err(StoreError::Conflict(_))
        ),
        "partial unique index"
    );
    let mut tx = db.begin().await.unwrap();
    tx.deactivate_connection(&org("acme"), &cid("b"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(db
        .connections(&org("acme"))
        .await
        .unwrap()
        .iter()
        .all(|c| !c.enabled));
}

/// Two writers decide on what they read before, then write concurrently: the second one to write
/// finds the world changed (or the database's one-active rule) and gets a conflict.
async fn activation_races_have_one_winner(db: &Db) {
    two_orgs(db).await;
    for (id, name) in [("a", "A"), ("b", "B")] {
        insert(db, &linked_connection("acme", id, name))
            .await
            .unwrap();
    }
    // Both saw no active connection. The first holds its transaction open while the second starts.
    let mut first = db.begin().await.unwrap();
    first
        .activate_connection(&org("acme"), &cid("a"), None)
        .await
        .unwrap();
    let other = db.clone();
    let second = tokio::spawn(async move { activate(&other, "acme", "b", None).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let second = second.await.unwrap();
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let enabled: Vec<ConnectionId> = db
        .connections(&org("acme"))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| c.id)
        .collect();
    assert_eq!(enabled, [cid("a")]);
}

async fn a_write_to_a_deleted_row_is_an_error(db: &Db) {
    two_orgs(db).await;
    insert(db, &linked_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.delete_connection(&org("acme"), &cid("c1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let sealed = keyring().seal("t");
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        tx.delete_connection(&org("acme"), &cid("c1")).await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.deactivate_connection(&org("acme"), &cid("c1")).await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.set_connection_health(&org("acme"), &cid("c1"), HealthStatus::Ok, None, None, 1)
            .await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.set_connection_linked(&org("acme"), &cid("c1"), &"la".into(), &sealed, "1234")
            .await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.activate_connection(&org("acme"), &cid("c1"), None).await,
        Err(StoreError::Missing)
    ));
}

async fn a_transaction_not_committed_leaves_nothing(db: &Db) {
    two_orgs(db).await;
    let mut tx = db.begin().await.unwrap();
    let c = tx
        .insert_connection(&new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    tx.record_audit(&AuditEvent::new(
        &org("acme"),
        Actor {
            id: "alice".into(),
            name: "Alice".into(),
        },
        AuditAction::ConnectionCreated,
        AuditSubject::Connection(c.id.clone()),
        "",
    ))
    .await
    .unwrap();
    drop(tx);
    assert!(db.connections(&org("acme")).await.unwrap().is_empty());
    assert!(db.audit_events(&org("acme"), 10).await.unwrap().is_empty());
}

async fn rows_of_another_organization_are_out_of_reach(db: &Db) {
    two_orgs(db).await;
    insert(db, &linked_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    assert_eq!(
        db.connection(&org("globex"), &cid("c1")).await.unwrap(),
        None
    );
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        tx.activate_connection(&org("globex"), &cid("c1"), None)
            .await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.delete_connection(&org("globex"), &cid("c1")).await,
        Err(StoreError::Missing)
    ));
    assert!(matches!(
        tx.set_connection_health(&org("globex"), &cid("c1"), HealthStatus::Ok, None, None, 1)
            .await,
        Err(StoreError::Missing)
    ));
    tx.commit().await.unwrap();
    let c = db
        .connection(&org("acme"), &cid("c1"))
        .await
        .unwrap()
        .unwrap();
    assert!(!c.enabled);
    assert_eq!(c.health_status, HealthStatus::Unknown);
    let mut tx = db.begin().await.unwrap();
    tx.delete_connection(&org("acme"), &cid("c1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(db.connection(&org("acme"), &cid("c1")).await.unwrap(), None);
}

async fn account_tokens_are_stored_sealed(db: &Db) {
    two_orgs(db).await;
    let ring = keyring();
    let token = "acct-token-PLAINTEXT-4242";
    insert(db, &new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    let sealed = ring.seal(token);
    let mut tx = db.begin().await.unwrap();
    tx.set_connection_linked(&org("acme"), &cid("c1"), &"la-1".into(), &sealed, "4242")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = db
        .connection(&org("acme"), &cid("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.lifecycle, Lifecycle::Linked);
    assert_eq!(c.linked_account_id, Some("la-1".into()));
    assert_eq!(c.account_token_last4.as_deref(), Some("4242"));
    assert_eq!(ring.open(c.account_token.as_ref().unwrap()).unwrap(), token);
    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT account_token_enc FROM connections WHERE id = 'c1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(
        !raw.windows(token.len()).any(|w| w == token.as_bytes()),
        "no plaintext at rest"
    );
    let mut tx = db.begin().await.unwrap();
    tx.set_connection_health(
        &org("acme"),
        &cid("c1"),
        HealthStatus::Ok,
        Some("Connection works"),
        Some("COMPLETE"),
        77,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let c = db
        .connection(&org("acme"), &cid("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            c.health_status,
            c.provider_status.as_deref(),
            c.health_checked_at
        ),
        (HealthStatus::Ok, Some("COMPLETE"), Some(77))
    );
}

async fn magic_links_are_revoked_or_used_once(db: &Db) {
    two_orgs(db).await;
    let ring = keyring();
    let mid = |s: &str| MagicLinkId::from(s);
    for (id, origin) in [("m1", "o1"), ("m2", "o2")] {
        let mut tx = db.begin().await.unwrap();
        tx.insert_magic_link(&NewMagicLink {
            id: id.into(),
            org_id: "acme".into(),
            provider_slug: None,
            end_user_origin_id: origin.into(),
            url: ring.seal("https://link.example/secret"),
            issued_by_id: "dana".into(),
            issued_by_name: "Dana Desk".into(),
            issued_at: 10,
            expires_at: 10 + 7 * 24 * 3600 * 1000,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        tx.revoke_magic_link(&org("globex"), &mid("m1")).await,
        Err(StoreError::Missing)
    ));
    tx.revoke_magic_link(&org("acme"), &mid("m1"))
        .await
        .unwrap();
    assert!(
        matches!(
            tx.revoke_magic_link(&org("acme"), &mid("m1")).await,
            Err(StoreError::Missing)
        ),
        "only a pending link can be revoked"
    );
    let token = ring.seal("tok");
    assert!(
        matches!(
            tx.use_magic_link("o1", &"la-1".into(), &token).await,
            Err(StoreError::Missing)
        ),
        "a revoked link is not used"
    );
    assert_eq!(
        tx.use_magic_link("o2", &"la-2".into(), &token)
            .await
            .unwrap(),
        (org("acme"), mid("m2"))
    );
    assert!(
        matches!(
            tx.use_magic_link("o2", &"la-3".into(), &token).await,
            Err(StoreError::Missing)
        ),
        "used once"
    );
    tx.commit().await.unwrap();
    let links = db.magic_links(&org("acme")).await.unwrap();
    let states: Vec<(&str, MagicLinkState)> =
        links.iter().map(|m| (m.id.as_str(), m.state)).collect();
    assert_eq!(
        states,
        vec![
            ("m1", MagicLinkState::Revoked),
            ("m2", MagicLinkState::Used)
        ]
    );
    let m2 = db
        .magic_link(&org("acme"), &mid("m2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m2.linked_account_id, Some("la-2".into()));
    assert_eq!(
        ring.open(m2.account_token.as_ref().unwrap()).unwrap(),
        "tok"
    );
    assert_eq!(ring.open(&m2.url).unwrap(), "https://link.example/secret");
    assert!(db.magic_links(&org("globex")).await.unwrap().is_empty());
    assert!(!db
        .set_magic_link_account(&org("globex"), &mid("m1"), &"la-9".into())
        .await
        .unwrap());
    assert!(
        !db.set_magic_link_account(&org("acme"), &mid("m2"), &"la-9".into())
            .await
            .unwrap(),
        "an account once known stays"
    );
    assert!(db
        .set_magic_link_account(&org("acme"), &mid("m1"), &"la-9".into())
        .await
        .unwrap());
}

async fn audit_events_come_back_newest_first(db: &Db) {
    two_orgs(db).await;
    let event = |o: &str, action| {
        AuditEvent::new(
            &org(o),
            Actor {
                id: "alice".into(),
                name: "Alice".into(),
            },
            action,
            AuditSubject::Organization(org(o)),
            "",
        )
    };
    let mut tx = db.begin().await.unwrap();
    for action in [
        AuditAction::HrisEnabled,
        AuditAction::HrisDisabled,
        AuditAction::ConnectionCreated,
    ] {
        tx.record_audit(&event("acme", action)).await.unwrap();
    }
    tx.record_audit(&event("globex", AuditAction::MagicLinkIssued))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let events = db.audit_events(&org("acme"), 10).await.unwrap();
    let actions: Vec<AuditAction> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::ConnectionCreated,
            AuditAction::HrisDisabled,
            AuditAction::HrisEnabled
        ]
    );
    assert_eq!(events[0].subject, AuditSubject::Organization(org("acme")));
    assert_eq!(events[0].actor.id, "alice");
    let stored: String =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE org_id = 'globex'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(stored, "magic_link.issued", "stored by its dotted name");
    assert_eq!(db.audit_events(&org("acme"), 2).await.unwrap().len(), 2);
}

async fn migrations_can_run_twice(db: &Db) {
    db.migrate().await.unwrap();
    assert!(db.ping().await);
}

#[test]
fn database_names_replace_the_path_only() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

mod security;
mod timeline;
