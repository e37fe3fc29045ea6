//! The health watch over the real job engine, on SQLite and on PostgreSQL: a revoked account token
//! becomes a banner and a timeline entry within one interval, and the repair clears the banner with
//! an entry of its own; any number of instances ticking together check a connection once per
//! interval.

mod common;
mod support;

use std::time::Duration;

use app::{
    domain::{connections as conn, health_watch, timeline},
    i18n::{DE, EN},
    model::{AuditAction, EntryResult, HealthStatus, TimelineEntry},
    state::AppState,
    storage::Db,
};
use reqwest::Method;
use serde_json::json;
use support::{Backend, SecEnv};

on_both_backends!(
    a_revoked_token_becomes_a_banner_and_a_timeline_entry_within_one_interval,
    instances_ticking_together_check_a_connection_once_per_interval,
);

/// Three seconds: the watch's interval in these tests.
const INTERVAL_MINUTES: &str = "0.05";

async fn start(backend: Backend) -> SecEnv {
    SecEnv::start_with(
        backend,
        &[("HRIS_HEALTH_INTERVAL_MINUTES", INTERVAL_MINUTES.into())],
    )
    .await
}

/// The newest timeline entry of `action`, waiting (up to a minute) for it to appear.
async fn entry_of(
    state: &AppState,
    who: &app::auth::Identity,
    action: AuditAction,
    after: usize,
) -> TimelineEntry {
    for _ in 0..600 {
        let page = timeline::own(state, who, 1).await.unwrap();
        let found: Vec<_> = page
            .entries
            .iter()
            .filter(|e| e.action == action)
            .cloned()
            .collect();
        if found.len() > after {
            return found[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {action:?} entry appeared");
}

async fn a_revoked_token_becomes_a_banner_and_a_timeline_entry_within_one_interval(
    backend: Backend,
) {
    let env = start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-health-1").await);
    let id = common::sync::linked(&env.env, &who, 10, false).await;
    conn::activate(state, &who, &id).await.unwrap();
    let record = state
        .db
        .connection(&who.org_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.health_status,
        HealthStatus::Ok,
        "linking found it working"
    );
    let account = record.linked_account_id.clone().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = server::jobs::spawn(
        env.env.jobs.clone(),
        state.clone(),
        server::jobs::EngineSettings {
            workers: 1,
            tick_seconds: 1,
        },
        async move {
            let _ = stopped.await;
        },
    );
    assert!(
        health_watch::alerts(state, &who, &EN)
            .await
            .unwrap()
            .alerts
            .is_empty(),
        "no banner while it works"
    );

    // The customer revokes the account at Merge: every call with its token answers 401.
    env.env
        .control(
            Method::POST,
            "/faults",
            Some(json!({ "kind": "token_revoked", "account_id": account })),
        )
        .await;
    let broken = entry_of(state, &who, AuditAction::ConnectionHealthChanged, 0).await;
    assert_eq!(broken.actor.as_deref(), Some("HRIS Connect"));
    assert_eq!(
        broken.result,
        Some(EntryResult::Health(HealthStatus::RelinkNeeded))
    );
    assert_eq!(
        EN.timeline_entry(&broken),
        "HRIS Connect: “Personio” stopped working (Relink needed)"
    );
    let record = state
        .db
        .connection(&who.org_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.health_status, HealthStatus::RelinkNeeded);
    assert_eq!(record.health_since, record.health_checked_at);

    // The banner, in the words of the page: when it stopped and why.
    let alerts = health_watch::alerts(state, &who, &EN).await.unwrap();
    assert_eq!(
        alerts.poll_seconds, 5,
        "the page asks at the watch's pace, 5 s at least"
    );
    let [alert] = &alerts.alerts[..] else {
        panic!("one banner: {alerts:?}")
    };
    let at = app::domain::format_time(record.health_since.unwrap(), &EN);
    assert_eq!(alert.headline, format!("Personio stopped working at {at}."));
    assert_eq!(alert.reason, EN.prov_token_rejected);
    let cookie = env
        .host_sign_in(who.org_id.as_str(), "admin-2", &["manage_integrations"])
        .await;
    let page = env.get("/admin/integrations/hris", Some(&cookie)).await;
    assert!(
        page.body.contains(&alert.headline) && page.body.contains(EN.prov_token_rejected),
        "the page shows the banner: {}",
        page.body
    );
    let served = env
        .post("/api/hris/health_alerts", "locale=en", Some(&cookie))
        .await;
    assert_eq!(
        served.json()["alerts"][0]["headline"],
        alert.headline.as_str()
    );
    // In the page's language, whatever the user's.
    let german = env
        .post("/api/hris/health_alerts", "locale=de", Some(&cookie))
        .await;
    let at_de = app::domain::format_time(record.health_since.unwrap(), &DE);
    assert_eq!(
        german.json()["alerts"][0]["headline"],
        (DE.health_banner)("Personio", &at_de).as_str()
    );
    assert_eq!(german.json()["alerts"][0]["reason"], DE.prov_token_rejected);
    // The next intervals find it broken still: no new entry, the same "since".
    tokio::time::sleep(Duration::from_secs(7)).await;
    let again = state
        .db
        .connection(&who.org_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        again.health_checked_at > record.health_checked_at,
        "checked again"
    );
    assert_eq!(again.health_since, record.health_since);

    // Merge accepts the token again: the next interval finds it working, and says so.
    env.env.control(Method::DELETE, "/faults", None).await;
    let restored = entry_of(state, &who, AuditAction::ConnectionHealthChanged, 1).await;
    assert_eq!(restored.result, Some(EntryResult::Health(HealthStatus::Ok)));
    assert_eq!(
        EN.timeline_entry(&restored),
        "HRIS Connect: “Personio” works again"
    );
    assert!(health_watch::alerts(state, &who, &EN)
        .await
        .unwrap()
        .alerts
        .is_empty());
    let page = env.get("/admin/integrations/hris", Some(&cookie)).await;
    assert!(!page.body.contains("stopped working at"), "{}", page.body);

    let _ = stop.send(());
    let _ = engine.await;
    env.finish().await;
}

async fn instances_ticking_together_check_a_connection_once_per_interval(backend: Backend) {
    let env = start(backend).await;
    let (one, who) = (&env.env.state, env.env.admin("org-health-2").await);
    let url = env
        .database_url()
        .unwrap_or_else(|| format!("sqlite://{}/hris.db", env.env.data_dir().display()));
    // A second instance: its own pool and its own handle on the job engine's tables.
    let two = AppState {
        db: Db::connect(&url).await.unwrap(),
        ..one.clone()
    };
    let two_jobs = server::jobs::JobStore::connect(&url, two.db.backend())
        .await
        .unwrap();
    let id = common::sync::linked(&env.env, &who, 10, false).await;
    // The start of an interval, so that a second later is the same one.
    let every = state_interval_ms(one);
    let now = app::storage::now_ms() / every * every;
    let (a, b) = tokio::join!(
        health_watch::tick(one, &env.env.jobs, now),
        health_watch::tick(&two, &two_jobs, now),
    );
    assert_eq!(a + b, 0, "a connection that is not active is not watched");
    conn::activate(one, &who, &id).await.unwrap();

    let (a, b) = tokio::join!(
        health_watch::tick(one, &env.env.jobs, now),
        health_watch::tick(&two, &two_jobs, now),
    );
    assert_eq!(a + b, 1, "one check of the one active connection");
    let (a, b) = tokio::join!(
        health_watch::tick(one, &env.env.jobs, now + 1000),
        health_watch::tick(&two, &two_jobs, now + 1000),
    );
    assert_eq!(a + b, 0, "the same interval is not checked twice");
    let next = now + every;
    let (a, b) = tokio::join!(
        health_watch::tick(&two, &two_jobs, next),
        health_watch::tick(one, &env.env.jobs, next),
    );
    assert_eq!(a + b, 1, "the next interval is checked once");
    two.db.close().await;
    env.finish().await;
}

fn state_interval_ms(state: &AppState) -> i64 {
    state.settings.health_interval.as_millis() as i64
}
