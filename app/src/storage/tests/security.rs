//! Storage for issue 6: webhook replay protection and key rotation, on both backends.

use super::*;
use crate::crypto::Keyring;

on_both_backends!(
    webhook_deliveries_are_handled_once,
    rotation_reseals_every_secret_under_the_new_key,
);

async fn webhook_deliveries_are_handled_once(db: &Db) {
    let stale = 60_000;
    assert_eq!(
        db.claim_webhook_delivery("sig-1", "LinkedAccount.linked", 1_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::New
    );
    // A second delivery while the first is processing: not processed twice.
    assert_eq!(
        db.claim_webhook_delivery("sig-1", "LinkedAccount.linked", 2_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::InProgress
    );
    db.finish_webhook_delivery("sig-1", 3_000).await.unwrap();
    assert_eq!(
        db.claim_webhook_delivery("sig-1", "LinkedAccount.linked", 4_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::AlreadyDone
    );
    // A failed attempt is released, so the provider's retry is processed again.
    assert_eq!(
        db.claim_webhook_delivery("sig-2", "x", 1_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::New
    );
    db.release_webhook_delivery("sig-2").await.unwrap();
    assert_eq!(
        db.claim_webhook_delivery("sig-2", "x", 1_500, stale)
            .await
            .unwrap(),
        DeliveryClaim::New
    );
    // An attempt abandoned for longer than `stale` is taken over.
    assert_eq!(
        db.claim_webhook_delivery("sig-2", "x", 1_500 + stale + 1, stale)
            .await
            .unwrap(),
        DeliveryClaim::New
    );
    // Releasing a finished delivery keeps it finished; purging forgets old ones.
    db.release_webhook_delivery("sig-1").await.unwrap();
    assert_eq!(
        db.claim_webhook_delivery("sig-1", "x", 5_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::AlreadyDone
    );
    assert_eq!(db.purge_webhook_deliveries(1_001).await.unwrap(), 1);
    assert_eq!(
        db.claim_webhook_delivery("sig-1", "x", 6_000, stale)
            .await
            .unwrap(),
        DeliveryClaim::New
    );
}

async fn rotation_reseals_every_secret_under_the_new_key(db: &Db) {
    let k1 = Keyring::generate_spec("k1");
    let k2 = Keyring::generate_spec("k2");
    let ring1 = Keyring::parse(&k1).unwrap();
    two_orgs(db).await;
    let mut c = new_connection("acme", "c1", "Personio");
    c.account_token = Some(ring1.seal("conn-token-1"));
    insert(db, &c).await.unwrap();
    insert(db, &new_connection("globex", "c2", "No token"))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.insert_magic_link(&NewMagicLink {
        id: "m1".into(),
        org_id: "globex".into(),
        provider_slug: None,
        end_user_origin_id: "origin-m1".into(),
        url: ring1.seal("https://link.example/m1"),
        issued_by_id: "dana".into(),
        issued_by_name: "Dana".into(),
        issued_at: 1,
        expires_at: i64::MAX / 2,
    })
    .await
    .unwrap();
    tx.use_magic_link("origin-m1", &"acct-1".into(), &ring1.seal("magic-token-1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        db.sealed_key_counts().await.unwrap(),
        vec![("k1".to_string(), 3)]
    );

    // Rotate: k2 primary, k1 still opens.
    let both = Keyring::parse(&format!("{k2},{k1}")).unwrap();
    let report = db.reseal_all(&both).await.unwrap();
    assert_eq!(report.total(), 3, "{report:?}");
    assert_eq!(
        db.sealed_key_counts().await.unwrap(),
        vec![("k2".to_string(), 3)]
    );
    assert_eq!(db.reseal_all(&both).await.unwrap().total(), 0, "idempotent");

    // k1 removed: everything still reads back.
    let only2 = Keyring::parse(&k2).unwrap();
    let conn = db
        .connection(&org("acme"), &cid("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        only2.open(conn.account_token.as_ref().unwrap()).unwrap(),
        "conn-token-1"
    );
    let link = db
        .magic_link(&org("globex"), &"m1".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(only2.open(&link.url).unwrap(), "https://link.example/m1");
    assert_eq!(
        only2.open(link.account_token.as_ref().unwrap()).unwrap(),
        "magic-token-1"
    );

    // A value under a key that is not configured stops rotation with a message naming the row.
    let ring3 = Keyring::parse(&Keyring::generate_spec("k3")).unwrap();
    let mut c = new_connection("acme", "c3", "Unknown key");
    c.account_token = Some(ring3.seal("t3"));
    insert(db, &c).await.unwrap();
    let err = db.reseal_all(&only2).await.unwrap_err().to_string();
    assert!(err.contains("c3") && !err.contains("t3"), "{err}");
}

/// Every `*_enc` column in the migrations is listed in `SEALED_COLUMNS` (so rotation covers it).
#[test]
fn every_sealed_column_is_rotated() {
    let sqls = [
        include_str!("../../../migrations/sqlite/0001_init.sql"),
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ];
    for sql in sqls {
        let mut table = "";
        for line in sql.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = rest.split_whitespace().next().unwrap_or_default();
            }
            let Some(col) = line.split_whitespace().next() else {
                continue;
            };
            if col.ends_with("_enc") {
                assert!(
                    SEALED_COLUMNS
                        .iter()
                        .any(|c| c.table == table && c.enc == col),
                    "{table}.{col} is not in SEALED_COLUMNS"
                );
            }
        }
    }
}
