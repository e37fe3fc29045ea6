//! The employee sync against the Merge sandbox over real HTTP, on SQLite and on PostgreSQL:
//! activation's full sync, incremental runs after the HR system changed, triggers that coalesce,
//! the fence that stops a stale worker, the safety brake and its approval, and the real job engine.

mod common;
mod support;

use common::sync::{at_merge, in_directory, pending, run_pending, token};

use std::time::Duration;

use app::{
    auth::Identity,
    domain::{
        connections as conn,
        sync::{removals, schedule, triggers},
    },
    i18n::EN,
    model::ConnectionView,
    state::AppState,
    storage::{
        DirectoryQuery, Fence, HoldState, RunOutcome, RunState, SyncMode, SyncRunRecord,
        SyncTrigger,
    },
};
use serde_json::json;
use support::{Backend, SecEnv};

on_both_backends!(
    activation_syncs_every_record_once_and_a_second_read_writes_nothing,
    an_incremental_run_brings_the_hr_systems_changes,
    webhook_poll_and_sync_now_together_make_one_run,
    a_stale_worker_cannot_write_after_its_run_was_taken_over,
    the_safety_brake_holds_mass_removals_until_an_admin_applies_them,
    the_job_engine_runs_the_queued_sync,
    merges_sync_completed_webhook_queues_one_incremental_run,
);

/// A direct connection of `size` employees, linked and activated (activation queues a full run).
async fn active_connection(env: &common::TestEnv, who: &Identity, size: usize) -> ConnectionView {
    let id = common::sync::linked(env, who, size, true).await;
    conn::activate(&env.state, who, &id).await.unwrap()
}

async fn activation_syncs_every_record_once_and_a_second_read_writes_nothing(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-1").await);
    let c = active_connection(&env.env, &who, 250).await;
    let run = pending(state, &c).await;
    assert_eq!(
        (run.trigger, run.mode),
        (SyncTrigger::Activation, SyncMode::Full)
    );

    let run = run_pending(state, &c).await;
    assert_eq!(run.outcome, Some(RunOutcome::Done));
    let merge = at_merge(state, &token(state, &who, &c).await).await;
    assert_eq!(merge.len(), 250, "the sandbox serves the size it was given");
    assert_eq!(in_directory(state, &who).await, merge);
    assert_eq!(
        run.counts.added,
        250 + run_counts_of_other_streams(state, &run).await
    );
    let streams = state.db.sync_run_streams(&run.id).await.unwrap();
    assert_eq!(streams.len(), 5);
    assert!(streams.iter().all(|s| s.done == 1));
    let employees = streams.iter().find(|s| s.stream == "employees").unwrap();
    assert_eq!(
        (employees.pages, employees.records),
        (3, 250),
        "page_size=100"
    );
    // Managers and teams resolved to our ids.
    let page = state
        .db
        .employees_page(
            &who.org_id,
            &DirectoryQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(page.iter().any(|e| e.manager_id.is_some()));
    assert!(page.iter().filter(|e| e.team_merge_ok()).count() > 0);

    // The same data read again (a full sync now): nothing written, nothing counted.
    let again = triggers::request(
        state,
        &who.org_id,
        &c.id,
        SyncTrigger::Manual,
        "manual:again".into(),
        SyncMode::Full,
    )
    .await
    .unwrap();
    assert!(matches!(again, triggers::Requested::Queued(_)));
    let again = run_pending(state, &c).await;
    assert_eq!(again.outcome, Some(RunOutcome::Done));
    assert_eq!(
        (
            again.counts.added,
            again.counts.changed,
            again.counts.deactivated
        ),
        (0, 0, 0)
    );
    assert_eq!(in_directory(state, &who).await, merge);
}

/// Teams and locations are counted as added too: how many the run's other streams read.
async fn run_counts_of_other_streams(state: &AppState, run: &SyncRunRecord) -> i64 {
    state
        .db
        .sync_run_streams(&run.id)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.stream != "employees")
        .map(|s| s.records)
        .sum()
}

trait TeamResolved {
    fn team_merge_ok(&self) -> bool;
}

impl TeamResolved for app::storage::EmployeeRecord {
    fn team_merge_ok(&self) -> bool {
        self.team_id.is_some()
    }
}

async fn an_incremental_run_brings_the_hr_systems_changes(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let who = env.env.admin("org-sync-2").await;
    // No overlap: the window starts right at the previous run's start (the link happened before).
    let mut state = env.env.state.clone();
    let mut settings = (*state.settings).clone();
    settings.sync.overlap = Duration::ZERO;
    state.settings = std::sync::Arc::new(settings);
    let state = &state;
    let c = active_connection(&env.env, &who, 300).await;
    run_pending(state, &c).await;
    let account = common::sync::account_of(state, &who, &c.id).await;
    // The HR system changes: a sync at Merge modifies, terminates, deletes and hires.
    env.env
        .control(
            reqwest::Method::POST,
            &format!("/accounts/{account}/sync"),
            None,
        )
        .await;
    let run = triggers::sync_now(state, &who, &EN).await.unwrap();
    assert_eq!(run.mode, SyncMode::Incremental);
    let run = run_pending(state, &c).await;
    assert!(
        matches!(run.outcome, Some(RunOutcome::Done | RunOutcome::Held)),
        "{run:?}"
    );
    assert!(
        run.counts.added + run.counts.changed > 0,
        "{:?}",
        run.counts
    );
    let employees = state
        .db
        .sync_run_streams(&run.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.stream == "employees")
        .unwrap();
    assert!(employees.modified_after.is_some(), "an incremental window");
    assert!(
        employees.records < 300,
        "only the changed records are read: {}",
        employees.records
    );
    let merge = at_merge(state, &token(state, &who, &c).await).await;
    assert_eq!(in_directory(state, &who).await, merge);
}

async fn webhook_poll_and_sync_now_together_make_one_run(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-3").await);
    let c = active_connection(&env.env, &who, 50).await;
    run_pending(state, &c).await;
    let now = app::storage::now_ms();
    let (webhook, tick, manual) = tokio::join!(
        triggers::on_sync_completed(state, &who.org_id, &c.id, "2026-12-01T10:00:00Z"),
        schedule::tick(state, now),
        triggers::sync_now(state, &who, &EN),
    );
    let queued = [
        matches!(webhook, Ok(triggers::Requested::Queued(_))),
        tick.queued == 1,
        manual.is_ok(),
    ];
    assert_eq!(queued.iter().filter(|q| **q).count(), 1, "{queued:?}");
    // Sync now while one is queued is refused with the reason.
    let refused = triggers::sync_now(state, &who, &EN).await.unwrap_err();
    assert_eq!(
        refused,
        app::error::AppError::Conflict(EN.sync_already_queued.into())
    );
    // The same webhook delivered again after the run makes no second run.
    run_pending(state, &c).await;
    let again = triggers::on_sync_completed(state, &who.org_id, &c.id, "2026-12-01T10:00:00Z")
        .await
        .unwrap();
    if matches!(webhook, Ok(triggers::Requested::Queued(_))) {
        assert_eq!(again, triggers::Requested::AlreadyHandled);
    }
}

async fn a_stale_worker_cannot_write_after_its_run_was_taken_over(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-4").await);
    let c = active_connection(&env.env, &who, 20).await;
    let run = pending(state, &c).await;
    let stale = state.db.claim_sync_run(&run.id).await.unwrap().unwrap();
    assert!(
        state.db.claim_sync_run(&run.id).await.unwrap().is_none(),
        "claimed once"
    );
    // The worker dies; the watchdog (lease 0 here) takes the run over.
    let mut taken = state.clone();
    let mut settings = (*state.settings).clone();
    settings.sync.lease = Duration::ZERO;
    taken.settings = std::sync::Arc::new(settings);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, over) = schedule::watchdog(&taken, app::storage::now_ms()).await;
    assert_eq!(over, 1);
    assert_eq!(
        state.db.sync_run(&run.id).await.unwrap().unwrap().state,
        RunState::Queued
    );
    // The stale worker's writes are refused.
    let mut tx = state.db.begin().await.unwrap();
    assert!(tx.check_fence(&stale).await.is_err());
    drop(tx);
    // The new attempt runs it to the end; the old fence still cannot finish it.
    let done = run_pending(state, &c).await;
    assert_eq!(done.outcome, Some(RunOutcome::Done));
    assert_eq!(done.attempt, stale.attempt + 1);
    let mut tx = state.db.begin().await.unwrap();
    assert!(tx
        .finish_sync_run(&Fence { ..stale }, RunOutcome::Failed, None)
        .await
        .is_err());
}

async fn the_safety_brake_holds_mass_removals_until_an_admin_applies_them(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-5").await);
    let c = active_connection(&env.env, &who, 200).await;
    run_pending(state, &c).await;
    let account = common::sync::account_of(state, &who, &c.id).await;
    // Several syncs at Merge: terminations and deletions pile up.
    for _ in 0..6 {
        env.env
            .control(
                reqwest::Method::POST,
                &format!("/accounts/{account}/sync"),
                None,
            )
            .await;
    }
    let (active_before, _) = state.db.employee_counts(&who.org_id).await.unwrap();
    // A brake of 0 %: any removal is held.
    let mut strict = state.clone();
    let mut settings = (*state.settings).clone();
    settings.sync.max_deactivate_percent = 0.0;
    strict.settings = std::sync::Arc::new(settings);
    triggers::sync_now(&strict, &who, &EN).await.unwrap();
    let run = run_pending(&strict, &c).await;
    assert_eq!(run.outcome, Some(RunOutcome::Held), "{run:?}");
    assert!(run.counts.held > 0);
    assert_eq!(run.counts.deactivated, 0);
    let (active_held, _) = state.db.employee_counts(&who.org_id).await.unwrap();
    assert!(active_held >= active_before, "nobody left while held");
    let (held_run, people) = removals::pending(state, &who).await.unwrap().unwrap();
    assert_eq!(held_run.id, run.id);
    assert_eq!(people.len() as i64, run.counts.held);
    // The metrics' gauges, as a scrape reads them: nothing queued or running, these held.
    assert_eq!(
        state.db.sync_gauges().await.unwrap(),
        (0, 0, run.counts.held)
    );

    let left = removals::decide(state, &who, &EN, &run.id, HoldState::Applied)
        .await
        .unwrap();
    assert_eq!(left, run.counts.held);
    let (active_after, _) = state.db.employee_counts(&who.org_id).await.unwrap();
    assert_eq!(active_after, active_held - left);
    assert!(removals::pending(state, &who).await.unwrap().is_none());
    assert_eq!(state.db.sync_gauges().await.unwrap(), (0, 0, 0));
    // Deciding twice is refused.
    assert!(removals::decide(state, &who, &EN, &run.id, HoldState::Kept)
        .await
        .is_err());
    assert!(env
        .env
        .audit_actions(&who.org_id, 5)
        .await
        .contains(&"sync.removals_applied".to_string()));
    // The timeline's sync entries name the connection.
    let page = app::domain::timeline::own(state, &who, 1).await.unwrap();
    let said: Vec<String> = page.entries.iter().map(|e| EN.timeline_entry(e)).collect();
    let named = (EN.tl_quoted)(&c.name);
    for what in ["held removals for approval", "applied the held removals of"] {
        assert!(
            said.iter().any(|s| s.contains(what) && s.contains(&named)),
            "{what} {named}: {said:?}"
        );
    }
}

async fn the_job_engine_runs_the_queued_sync(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-6").await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = server::jobs::spawn(
        env.env.jobs.clone(),
        state.clone(),
        server::jobs::EngineSettings {
            workers: 2,
            tick_seconds: 1,
        },
        async move {
            let _ = stopped.await;
        },
    );
    let c = active_connection(&env.env, &who, 120).await;
    let mut finished = None;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let runs = state.db.sync_runs(&who.org_id, 10, 0).await.unwrap();
        if let Some(r) = runs.iter().find(|r| r.state == RunState::Finished) {
            finished = Some(r.clone());
            break;
        }
    }
    let run = finished.expect("the engine finished the activation's run");
    assert_eq!(run.outcome, Some(RunOutcome::Done));
    let (active, all) = state.db.employee_counts(&who.org_id).await.unwrap();
    assert_eq!(all, 120);
    assert!(active > 0);
    let _ = stop.send(());
    let _ = engine.await;
    let _ = c;
}

async fn merges_sync_completed_webhook_queues_one_incremental_run(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-sync-7").await);
    let c = active_connection(&env.env, &who, 40).await;
    run_pending(state, &c).await;
    let account = common::sync::account_of(state, &who, &c.id).await;
    let payload = json!({
        "hook": { "id": "h-1", "event": "LinkedAccount.sync_completed", "target": "x" },
        "linked_account": { "id": account.as_str() },
        "data": { "is_initial_sync": false, "sync_status": {
            "hris.Employee": { "last_sync_finished": "2026-12-01T09:00:00Z" },
            "hris.Team": { "last_sync_finished": "2026-12-01T09:00:05Z" },
        } },
    });
    assert_eq!(
        app::domain::webhooks::handle(state, &payload).await,
        app::domain::webhooks::Handling::Handled
    );
    let run = pending(state, &c).await;
    assert_eq!(
        (run.trigger, run.mode),
        (SyncTrigger::Webhook, SyncMode::Incremental)
    );
    assert!(
        run.trigger_key.ends_with("2026-12-01T09:00:05Z"),
        "{}",
        run.trigger_key
    );
    run_pending(state, &c).await;
    // Merge delivers the same event again: no second run.
    assert_eq!(
        app::domain::webhooks::handle(state, &payload).await,
        app::domain::webhooks::Handling::Handled
    );
    assert!(state.db.pending_sync_run(&c.id).await.unwrap().is_none());
    // An account that is no organization's active connection: ignored.
    let other = json!({
        "hook": { "event": "LinkedAccount.sync_completed" },
        "linked_account": { "id": "not-ours" },
        "data": {},
    });
    assert_ne!(
        app::domain::webhooks::handle(state, &other).await,
        app::domain::webhooks::Handling::Handled
    );
}
