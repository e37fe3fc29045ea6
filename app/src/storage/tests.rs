//! The storage suite, run against SQLite and PostgreSQL alike. Each test gets its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database dropped afterwards), so runs never see
//! each other's rows. PostgreSQL is at `TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).

use super::*;
use crate::{
    crypto::Keyring,
    model::{ConnectionKind, Lifecycle},
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
        sqlx::query(&format!("CREATE DATABASE {name}"))
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
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
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
);

fn keyring() -> Keyring {
    Keyring::parse(&Keyring::generate_spec("test-1")).unwrap()
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

async fn two_orgs(db: &Db) {
    db.upsert_organization("acme", "Acme GmbH").await.unwrap();
    db.upsert_organization("globex", "Globex Ltd")
        .await
        .unwrap();
}

async fn organizations_are_created_once_and_toggle(db: &Db) {
    let org = db.upsert_organization("acme", "Acme").await.unwrap();
    assert!(!org.hris_enabled);
    assert!(db.set_hris_enabled("acme", true).await.unwrap());
    let again = db.upsert_organization("acme", "Acme GmbH").await.unwrap();
    assert!(again.hris_enabled, "an upsert keeps the flag");
    assert_eq!(again.name, "Acme GmbH", "an upsert refreshes the name");
    assert_eq!(again.created_at, org.created_at);
    assert!(!db.set_hris_enabled("nobody", true).await.unwrap());
    db.upsert_organization("a-first", "Aardvark AG")
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
    assert_eq!(db.organization("nobody").await.unwrap(), None);
}

async fn sessions_expire_and_extend(db: &Db) {
    db.upsert_organization("acme", "Acme").await.unwrap();
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
    db.insert_connection(&new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    assert!(db
        .connection_name_taken("acme", "  personio ")
        .await
        .unwrap());
    assert!(!db
        .connection_name_taken("globex", "Personio")
        .await
        .unwrap());
    let dup = db
        .insert_connection(&new_connection("acme", "c2", "PERSONIO"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    db.insert_connection(&new_connection("globex", "c3", "Personio"))
        .await
        .unwrap();
    assert_eq!(
        db.connections("acme").await.unwrap().len(),
        1,
        "the failed insert left nothing"
    );
}

async fn one_connection_is_active_at_a_time(db: &Db) {
    two_orgs(db).await;
    for (id, name) in [("a", "A"), ("b", "B")] {
        db.insert_connection(&new_connection("acme", id, name))
            .await
            .unwrap();
    }
    db.insert_connection(&new_connection("globex", "g", "G"))
        .await
        .unwrap();
    assert!(db
        .set_connection_enabled("globex", "g", true)
        .await
        .unwrap());
    assert!(db.set_connection_enabled("acme", "a", true).await.unwrap());
    assert!(db.set_connection_enabled("acme", "b", true).await.unwrap());
    let enabled: Vec<(String, bool)> = db
        .connections("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.enabled))
        .collect();
    assert_eq!(enabled, vec![("a".into(), false), ("b".into(), true)]);
    assert!(
        db.connection("globex", "g").await.unwrap().unwrap().enabled,
        "other organizations untouched"
    );
    assert!(db.set_connection_enabled("acme", "b", false).await.unwrap());
    assert!(db
        .connections("acme")
        .await
        .unwrap()
        .iter()
        .all(|c| !c.enabled));
}

async fn rows_of_another_organization_are_out_of_reach(db: &Db) {
    two_orgs(db).await;
    db.insert_connection(&new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    assert_eq!(db.connection("globex", "c1").await.unwrap(), None);
    assert!(!db
        .set_connection_enabled("globex", "c1", true)
        .await
        .unwrap());
    assert!(!db.delete_connection("globex", "c1").await.unwrap());
    assert!(!db
        .set_connection_health("globex", "c1", "ok", None, None, 1)
        .await
        .unwrap());
    let c = db.connection("acme", "c1").await.unwrap().unwrap();
    assert!(!c.enabled);
    assert_eq!(c.health_status, "unknown");
    assert!(db.delete_connection("acme", "c1").await.unwrap());
    assert_eq!(db.connection("acme", "c1").await.unwrap(), None);
}

async fn account_tokens_are_stored_sealed(db: &Db) {
    two_orgs(db).await;
    let ring = keyring();
    let token = "acct-token-PLAINTEXT-4242";
    db.insert_connection(&new_connection("acme", "c1", "Personio"))
        .await
        .unwrap();
    let sealed = ring.seal(token);
    assert!(db
        .set_connection_linked("acme", "c1", "la-1", &sealed, "4242")
        .await
        .unwrap());
    let c = db.connection("acme", "c1").await.unwrap().unwrap();
    assert_eq!(c.lifecycle, Lifecycle::Linked);
    assert_eq!(c.linked_account_id.as_deref(), Some("la-1"));
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
    assert!(db
        .set_connection_health(
            "acme",
            "c1",
            "ok",
            Some("Connection works"),
            Some("COMPLETE"),
            77
        )
        .await
        .unwrap());
    let c = db.connection("acme", "c1").await.unwrap().unwrap();
    assert_eq!(
        (
            c.health_status.as_str(),
            c.provider_status.as_deref(),
            c.health_checked_at
        ),
        ("ok", Some("COMPLETE"), Some(77))
    );
}

async fn magic_links_are_revoked_or_used_once(db: &Db) {
    two_orgs(db).await;
    let ring = keyring();
    for (id, origin) in [("m1", "o1"), ("m2", "o2")] {
        db.insert_magic_link(&NewMagicLink {
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
    }
    assert!(!db.revoke_magic_link("globex", "m1").await.unwrap());
    assert!(db.revoke_magic_link("acme", "m1").await.unwrap());
    assert!(
        !db.revoke_magic_link("acme", "m1").await.unwrap(),
        "only a pending link can be revoked"
    );
    let token = ring.seal("tok");
    assert!(
        !db.use_magic_link("o1", "la-1", &token).await.unwrap(),
        "a revoked link is not used"
    );
    assert!(db.use_magic_link("o2", "la-2", &token).await.unwrap());
    assert!(
        !db.use_magic_link("o2", "la-3", &token).await.unwrap(),
        "used once"
    );
    let links = db.magic_links("acme").await.unwrap();
    let states: Vec<(&str, &str)> = links
        .iter()
        .map(|m| (m.id.as_str(), m.state.as_str()))
        .collect();
    assert_eq!(states, vec![("m1", "revoked"), ("m2", "used")]);
    let m2 = db.magic_link("acme", "m2").await.unwrap().unwrap();
    assert_eq!(m2.linked_account_id.as_deref(), Some("la-2"));
    assert_eq!(
        ring.open(m2.account_token.as_ref().unwrap()).unwrap(),
        "tok"
    );
    assert_eq!(ring.open(&m2.url).unwrap(), "https://link.example/secret");
    assert!(db.magic_links("globex").await.unwrap().is_empty());
    assert!(!db
        .set_magic_link_account("globex", "m1", "la-9")
        .await
        .unwrap());
    assert!(
        !db.set_magic_link_account("acme", "m2", "la-9")
            .await
            .unwrap(),
        "an account once known stays"
    );
    assert!(db
        .set_magic_link_account("acme", "m1", "la-9")
        .await
        .unwrap());
}

async fn audit_events_come_back_newest_first(db: &Db) {
    two_orgs(db).await;
    for action in ["first", "second", "third"] {
        db.record_audit(&AuditEvent::new(
            "acme",
            "alice",
            "Alice",
            action,
            ("organization", "acme"),
            "",
        ))
        .await
        .unwrap();
    }
    db.record_audit(&AuditEvent::new(
        "globex",
        "gina",
        "Gina",
        "other",
        ("organization", "globex"),
        "",
    ))
    .await
    .unwrap();
    let actions: Vec<String> = db
        .audit_events("acme", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["third", "second", "first"]);
    assert_eq!(db.audit_events("acme", 2).await.unwrap().len(), 2);
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
