//! Storage for issue 15: the timeline (audit events and expired magic links, paged) and the
//! webhook log (sealed bodies, replays linked to their original), on both backends.

use super::*;
use crate::model::{WebhookOutcome, WebhookReason, WebhookVerdict};

on_both_backends!(
    the_timeline_pages_newest_first_and_stays_in_its_organization,
    the_timeline_shows_magic_links_that_expired_unused,
    the_webhook_log_keeps_sealed_bodies_and_links_replays,
);

fn alice() -> Actor {
    Actor {
        id: "alice".into(),
        name: "Alice".into(),
    }
}

async fn the_timeline_pages_newest_first_and_stays_in_its_organization(db: &Db) {
    two_orgs(db).await;
    let mut tx = db.begin().await.unwrap();
    for i in 0..25 {
        let e = AuditEvent::new(
            &org("acme"),
            alice(),
            AuditAction::ConnectionTested,
            AuditSubject::Connection(cid("c1")),
            "",
        )
        .with_subject_name(format!("Personio {i}"))
        .with_outcome("ok");
        tx.record_audit(&e).await.unwrap();
    }
    tx.record_audit(&AuditEvent::new(
        &org("globex"),
        alice(),
        AuditAction::HrisEnabled,
        AuditSubject::Organization(org("globex")),
        "",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let first = db.timeline(&org("acme"), now_ms(), 20, 0).await.unwrap();
    let second = db.timeline(&org("acme"), now_ms(), 20, 20).await.unwrap();
    assert_eq!((first.len(), second.len()), (20, 5));
    let names: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|e| e.subject_name.as_str())
        .collect();
    let expected: Vec<String> = (0..25).rev().map(|i| format!("Personio {i}")).collect();
    assert_eq!(names, expected, "newest first, across pages");
    assert!(first.iter().all(|e| e.org_id == "acme"));
    assert_eq!(first[0].outcome, "ok");
    assert_eq!(first[0].action, AuditAction::ConnectionTested);
    let globex = db.timeline(&org("globex"), now_ms(), 20, 0).await.unwrap();
    assert_eq!(globex.len(), 1);
    assert_eq!(globex[0].action, AuditAction::HrisEnabled);
    assert_eq!(
        globex[0].subject_name, "",
        "events without a name read back empty"
    );
    assert!(db
        .timeline(&org("nobody"), now_ms(), 20, 0)
        .await
        .unwrap()
        .is_empty());
}

async fn the_timeline_shows_magic_links_that_expired_unused(db: &Db) {
    two_orgs(db).await;
    let ring = keyring();
    let mut tx = db.begin().await.unwrap();
    for (id, expires_at, o) in [
        ("m-expired", 1_000, "acme"),
        ("m-later", 5_000, "acme"),
        ("m-other", 1_000, "globex"),
    ] {
        tx.insert_magic_link(&NewMagicLink {
            id: id.into(),
            org_id: o.into(),
            provider_slug: None,
            end_user_origin_id: format!("origin-{id}"),
            url: ring.seal("https://link.example/secret"),
            issued_by_id: "dana".into(),
            issued_by_name: "Dana Desk".into(),
            issued_at: 10,
            expires_at,
        })
        .await
        .unwrap();
    }
    tx.revoke_magic_link(&org("acme"), &"m-later".into())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // At 2 000 the first has expired; the second was revoked before it could (not "expired").
    let events = db.timeline(&org("acme"), 6_000, 20, 0).await.unwrap();
    let expired: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == AuditAction::MagicLinkExpired)
        .collect();
    assert_eq!(expired.len(), 1, "{events:?}");
    assert_eq!(
        expired[0].subject,
        AuditSubject::MagicLink("m-expired".into())
    );
    assert_eq!(expired[0].actor.id, SYSTEM_ACTOR);
    assert_eq!(expired[0].created_at, 1_000, "dated when it expired");
    // Before its expiry it is not in the timeline.
    assert!(db
        .timeline(&org("acme"), 500, 20, 0)
        .await
        .unwrap()
        .iter()
        .all(|e| e.action != AuditAction::MagicLinkExpired));
}

async fn the_webhook_log_keeps_sealed_bodies_and_links_replays(db: &Db) {
    let ring = keyring();
    let mut failed = WebhookLogRecord::new(
        "LinkedAccount.linked",
        WebhookVerdict::Valid,
        WebhookOutcome::Failed,
    );
    failed.reason = Some(WebhookReason::UnknownAccount);
    failed.linked_account_id = Some("la-1".into());
    failed.body_bytes = 17;
    failed.body = Some(ring.seal(r#"{"secret":"tok"}"#));
    db.record_webhook(&failed).await.unwrap();
    let mut rejected = WebhookLogRecord::new(
        "unknown",
        WebhookVerdict::UnknownKey,
        WebhookOutcome::Rejected,
    );
    rejected.body_bytes = 70_000;
    db.record_webhook(&rejected).await.unwrap();
    let back = db.webhook_log_entry(&failed.id).await.unwrap().unwrap();
    assert_eq!(back, failed);
    let body: Vec<u8> = sqlx::query_scalar("SELECT body_enc FROM webhook_log WHERE id = $1")
        .bind(&failed.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&body).contains("tok"),
        "bodies are stored sealed"
    );
    assert_eq!(
        ring.open(back.body.as_ref().unwrap()).unwrap(),
        r#"{"secret":"tok"}"#
    );

    // A replay: a new entry linked to the original, in a transaction.
    let mut replay = WebhookLogRecord::new(
        "LinkedAccount.linked",
        WebhookVerdict::Valid,
        WebhookOutcome::Handled,
    );
    replay.replay_of = Some(failed.id.clone());
    replay.replayed_by_name = Some("Dana Desk".into());
    let mut tx = db.begin().await.unwrap();
    tx.record_webhook(&replay).await.unwrap();
    drop(tx);
    assert!(
        db.webhook_log_entry(&replay.id).await.unwrap().is_none(),
        "not committed: not there"
    );
    let mut tx = db.begin().await.unwrap();
    tx.record_webhook(&replay).await.unwrap();
    tx.commit().await.unwrap();

    let page = db.webhook_log(2, 0).await.unwrap();
    let ids: Vec<_> = page.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        ids,
        [replay.id.clone(), rejected.id.clone()],
        "newest first"
    );
    assert_eq!(page[0].replay_of.as_ref(), Some(&failed.id));
    let rest = db.webhook_log(2, 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, failed.id);
    assert!(page[1].body.is_none(), "a body too large is not kept");

    // The webhook log's bodies are rotated with every other secret.
    assert!(SEALED_COLUMNS
        .iter()
        .any(|c| c.table == "webhook_log" && c.enc == "body_enc"));
    assert_eq!(db.purge_webhook_log(i64::MAX).await.unwrap(), 3);
    assert!(db.webhook_log(10, 0).await.unwrap().is_empty());
}
