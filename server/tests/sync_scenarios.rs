//! The sync's scenarios against the Merge sandbox over real HTTP, on SQLite and on PostgreSQL:
//! deletes, terminations (past and future), rehires, records missing from full scans, faults on a
//! middle page, Merge's sync statuses and a revoked token, a relink with new Merge ids, switching
//! the source, and the safety brake at its default with "Keep everyone".
//!
//! The sandbox's data is frozen (`evolve: false`): only the control API's edits change it, so every
//! expectation follows from what a test did.

mod common;
mod support;

use common::sync::{at_merge, pending, run_pending, token, Listing};

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use app::{
    auth::Identity,
    domain::{
        connections as conn,
        sync::{engine, preview, removals, schedule, triggers},
    },
    i18n::EN,
    model::{ConnectionView, EmployeeId, HealthStatus},
    provider::{collect_pages, MergeClient, PageQuery, RetryPolicy},
    state::AppState,
    storage::{
        DirectoryQuery, EmployeeRecord, HoldState, RunOutcome, RunState, SyncMode, SyncRunRecord,
        SyncTrigger,
    },
};
use reqwest::Method;
use serde_json::{json, Value};
use support::{Backend, SecEnv};

on_both_backends!(
    deletes_terminations_future_dates_and_rehires,
    a_record_missing_from_full_scans_leaves_after_the_second_complete_one,
    faults_on_a_middle_page_resume_from_the_checkpoint,
    merge_sync_statuses_and_a_revoked_token,
    a_relink_with_new_merge_ids_rebinds_by_remote_id,
    switching_the_source_previews_cancels_and_confirms,
    the_default_brake_holds_thirty_percent_and_keep_everyone_sticks,
);

// ----- helpers -----

/// A connection of `size` frozen employees, linked (not activated). Returns it and its account id.
async fn linked_connection(
    env: &common::TestEnv,
    who: &Identity,
    size: usize,
) -> (ConnectionView, String, String) {
    linked_named(env, who, size, "Personio").await
}

async fn linked_named(
    env: &common::TestEnv,
    who: &Identity,
    size: usize,
    name: &str,
) -> (ConnectionView, String, String) {
    let session = conn::start_direct(&env.state, who, "personio", name)
        .await
        .unwrap();
    let origin = env
        .state
        .db
        .connection(&who.org_id, &session.connection_id)
        .await
        .unwrap()
        .unwrap()
        .end_user_origin_id;
    env.control(
        Method::PUT,
        &format!("/organizations/{origin}"),
        Some(json!({ "employees": size, "evolve": false })),
    )
    .await;
    let public = env
        .complete_link(&session.link_token, json!({ "integration": "personio" }))
        .await;
    let c = conn::finish_link(&env.state, who, &session.connection_id, &public)
        .await
        .unwrap();
    let account = c.linked_account_id.clone().unwrap();
    (c, account.to_string(), origin)
}

/// A linked and activated connection whose activation run has run; its account id.
async fn synced_connection(
    env: &common::TestEnv,
    who: &Identity,
    size: usize,
) -> (ConnectionView, String) {
    let (c, account, _) = linked_connection(env, who, size).await;
    let c = conn::activate(&env.state, who, &c.id).await.unwrap();
    let run = run_pending(&env.state, &c).await;
    assert_eq!(run.outcome, Some(RunOutcome::Done), "{run:?}");
    (c, account)
}

/// Queues a run of `mode` (a manual trigger) and runs it.
async fn run(
    state: &AppState,
    who: &Identity,
    c: &ConnectionView,
    mode: SyncMode,
) -> SyncRunRecord {
    let queued = triggers::request(
        state,
        &who.org_id,
        &c.id,
        SyncTrigger::Manual,
        format!("manual:{}", uuid::Uuid::now_v7()),
        mode,
    )
    .await
    .unwrap();
    assert!(
        matches!(queued, triggers::Requested::Queued(_)),
        "{queued:?}"
    );
    run_pending(state, c).await
}

/// The state with other sync settings.
fn with_sync(state: &AppState, f: impl FnOnce(&mut app::domain::sync::SyncSettings)) -> AppState {
    let mut s = state.clone();
    let mut settings = (*state.settings).clone();
    f(&mut settings.sync);
    s.settings = Arc::new(settings);
    s
}

/// Everyone in the organization's directory table (in or out), by remote id; fails on a duplicate.
async fn people(state: &AppState, who: &Identity) -> BTreeMap<String, EmployeeRecord> {
    let mut all = BTreeMap::new();
    let mut q = DirectoryQuery {
        limit: 500,
        include_inactive: true,
        ..DirectoryQuery::default()
    };
    loop {
        let page = state.db.employees_page(&who.org_id, &q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some((last.modified_at, last.id.to_string()));
        for e in page {
            let key = format!("{}/{}", e.connection_id, e.remote_id);
            assert!(
                all.insert(key.clone(), e).is_none(),
                "{key} is in the directory twice"
            );
        }
    }
    // Keyed by remote id; when an old source's row shares it with the new source's (after a switch),
    // the person in the directory (active) is the one shown.
    let mut by_remote: BTreeMap<String, EmployeeRecord> = BTreeMap::new();
    for e in all.into_values() {
        match by_remote.get(&e.remote_id) {
            Some(kept) if kept.active >= e.active => {}
            _ => {
                by_remote.insert(e.remote_id.clone(), e);
            }
        }
    }
    by_remote
}

/// The directory in the shape of [`at_merge`].
async fn in_directory(state: &AppState, who: &Identity) -> Listing {
    people(state, who)
        .await
        .into_iter()
        .map(|(r, e)| {
            (
                r,
                (e.work_email, e.employment_status, e.remote_was_deleted == 1),
            )
        })
        .collect()
}

/// The remote ids of the people in the directory (active).
async fn active_remote_ids(state: &AppState, who: &Identity) -> BTreeSet<String> {
    people(state, who)
        .await
        .into_iter()
        .filter(|(_, e)| e.active == 1)
        .map(|(r, _)| r)
        .collect()
}

async fn person(state: &AppState, who: &Identity, remote: &str) -> EmployeeRecord {
    people(state, who)
        .await
        .remove(remote)
        .unwrap_or_else(|| panic!("{remote} not in the directory"))
}

/// How many API requests the sandbox has answered.
async fn api_requests(env: &common::TestEnv) -> u64 {
    env.control(Method::GET, "/requests", None).await["api_requests"]
        .as_u64()
        .unwrap()
}

fn date(days_from_today: i64) -> String {
    let d = (time::OffsetDateTime::now_utc() + time::Duration::days(days_from_today)).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn employee_edit(
    env: &common::TestEnv,
    method: Method,
    account: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    env.control(
        method,
        &format!("/accounts/{account}/employees/{path}"),
        body,
    )
    .await
}

// ----- 1. deletes, terminations, future terminations, rehires -----

async fn deletes_terminations_future_dates_and_rehires(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-1").await);
    let (c, account) = synced_connection(&env.env, &who, 60).await;
    let active: Vec<String> = active_remote_ids(state, &who).await.into_iter().collect();
    let [deleted, terminated, leaving_later, rehired] =
        [&active[0], &active[1], &active[2], &active[3]];
    let before = person(state, &who, rehired).await;
    let later = date(3);

    let e = &env.env;
    employee_edit(e, Method::DELETE, &account, deleted, None).await;
    let past = json!({ "termination_date": date(-2) });
    employee_edit(
        e,
        Method::POST,
        &account,
        &format!("{terminated}/terminate"),
        Some(past.clone()),
    )
    .await;
    employee_edit(
        e,
        Method::POST,
        &account,
        &format!("{rehired}/terminate"),
        Some(past),
    )
    .await;
    employee_edit(
        e,
        Method::POST,
        &account,
        &format!("{leaving_later}/terminate"),
        Some(json!({ "termination_date": later })),
    )
    .await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.outcome, Some(RunOutcome::Done), "{r:?}");
    assert_eq!(r.counts.deactivated, 3, "{:?}", r.counts);

    let tombstone = person(state, &who, deleted).await;
    assert_eq!(
        (tombstone.active, tombstone.remote_was_deleted),
        (0, 1),
        "a delete is an inactive tombstone"
    );
    assert_eq!(person(state, &who, terminated).await.active, 0);
    assert_eq!(person(state, &who, rehired).await.active, 0);
    let until = person(state, &who, leaving_later).await;
    assert_eq!(until.active, 1, "a future termination keeps the person");
    assert_eq!(until.termination_date.as_deref(), Some(later.as_str()));
    assert_eq!(
        in_directory(state, &who).await,
        at_merge(state, &token(state, &who, &c).await).await
    );

    // The rehire comes back with the same id.
    employee_edit(
        e,
        Method::POST,
        &account,
        &format!("{rehired}/rehire"),
        None,
    )
    .await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.counts.reactivated, 1, "{:?}", r.counts);
    let back = person(state, &who, rehired).await;
    assert_eq!((back.active, back.id), (1, before.id));

    // The days pass (the sync's "today" is set; nothing changed at Merge).
    let day_before = with_sync(state, |s| s.today = Some(date(2)));
    let r = run(&day_before, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.counts.deactivated, 0);
    assert_eq!(person(state, &who, leaving_later).await.active, 1);
    let on_the_day = with_sync(state, |s| s.today = Some(later.clone()));
    let r = run(&on_the_day, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.counts.deactivated, 1, "{:?}", r.counts);
    assert_eq!(person(state, &who, leaving_later).await.active, 0);
    env.finish().await;
}

// ----- 2. missing from full scans -----

async fn a_record_missing_from_full_scans_leaves_after_the_second_complete_one(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-2").await);
    let (c, account) = synced_connection(&env.env, &who, 30).await;
    let gone = active_remote_ids(state, &who)
        .await
        .into_iter()
        .next()
        .unwrap();
    employee_edit(
        &env.env,
        Method::DELETE,
        &account,
        &format!("{gone}?hard=true"),
        None,
    )
    .await;
    assert!(!at_merge(state, &token(state, &who, &c).await)
        .await
        .contains_key(&gone));

    let r = run(state, &who, &c, SyncMode::Full).await;
    assert_eq!(
        (r.outcome, r.counts.deactivated),
        (Some(RunOutcome::Done), 0)
    );
    assert_eq!(
        person(state, &who, &gone).await.active,
        1,
        "one full scan is not enough"
    );
    // Incremental runs and a full scan Merge reports as partial do not count.
    run(state, &who, &c, SyncMode::Incremental).await;
    let status = format!("/accounts/{account}/sync-status");
    env.env
        .control(
            Method::PUT,
            &status,
            Some(json!({ "status": "PARTIALLY_SYNCED" })),
        )
        .await;
    let r = run(state, &who, &c, SyncMode::Full).await;
    assert_eq!(r.outcome, Some(RunOutcome::Partial));
    assert_eq!(person(state, &who, &gone).await.active, 1);
    env.env.control(Method::DELETE, &status, None).await;

    let r = run(state, &who, &c, SyncMode::Full).await;
    assert_eq!(
        (r.outcome, r.counts.deactivated),
        (Some(RunOutcome::Done), 1)
    );
    let left = person(state, &who, &gone).await;
    assert_eq!((left.active, left.remote_was_deleted), (0, 0));
    env.finish().await;
}

// ----- 3. faults on a middle page -----

/// The employees stream of a run: (pages, records).
async fn employees_stream(state: &AppState, run: &SyncRunRecord) -> (i64, i64) {
    let s = state
        .db
        .sync_run_streams(&run.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.stream == "employees")
        .unwrap();
    (s.pages, s.records)
}

async fn fault(env: &common::TestEnv, account: &str, spec: Value) {
    let mut spec = spec;
    spec["account_id"] = json!(account);
    spec["stream"] = json!("employees");
    spec["page"] = json!(2);
    env.control(Method::POST, "/faults", Some(spec)).await;
}

async fn faults_on_a_middle_page_resume_from_the_checkpoint(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let who = env.env.admin("org-scn-3").await;
    // The client: 3 attempts, a 1 s timeout (the sandbox's slow answer outlasts it).
    let mut state = env.env.state.clone();
    let client = MergeClient::with_policy(
        state.settings.provider_base_url.clone(),
        state.settings.provider_api_key.clone(),
        RetryPolicy {
            timeout: Duration::from_secs(1),
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
            budget: Duration::from_secs(20),
        },
    )
    .unwrap();
    state.sync_provider = Arc::new(client);
    let state = &state;
    let (c, account, _) = linked_connection(&env.env, &who, 250).await;
    let c = conn::activate(state, &who, &c.id).await.unwrap();

    // A 500 that outlasts the client's three attempts on page 2: the run is queued again after
    // page 1, and resumes there.
    fault(
        &env.env,
        &account,
        json!({ "kind": "server_error", "count": 3 }),
    )
    .await;
    let run1 = pending(state, &c).await;
    let before = api_requests(&env.env).await;
    let first = engine::execute(state, &run1.id).await;
    assert!(
        matches!(first, engine::Executed::RetryAfter(_)),
        "{first:?}"
    );
    let queued = state.db.sync_run(&run1.id).await.unwrap().unwrap();
    assert_eq!(queued.state, RunState::Queued);
    assert_eq!(
        employees_stream(state, &queued).await,
        (1, 100),
        "page 1 is checkpointed"
    );
    let second = engine::execute(state, &run1.id).await;
    assert_eq!(second, engine::Executed::Finished(RunOutcome::Done));
    let resumed = api_requests(&env.env).await - before;
    let done = state.db.sync_run(&run1.id).await.unwrap().unwrap();
    assert_eq!(done.attempt, 2);
    assert_eq!(employees_stream(state, &done).await, (3, 250));
    let units: i64 = state
        .db
        .sync_run_streams(&done.id)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.stream != "employees")
        .map(|s| s.records)
        .sum();
    assert_eq!(done.counts.added, 250 + units, "nothing counted twice");
    let merge = at_merge(state, &token(state, &who, &c).await).await;
    assert_eq!(merge.len(), 250);
    assert_eq!(in_directory(state, &who).await, merge);

    // A clean full run: what a run costs without faults.
    let before = api_requests(&env.env).await;
    let clean = run(state, &who, &c, SyncMode::Full).await;
    let baseline = api_requests(&env.env).await - before;
    assert_eq!(employees_stream(state, &clean).await, (3, 250));
    // The resumed run read sync-status once more and page 2 three times more: nothing else.
    assert_eq!(
        resumed,
        baseline + 3 + 1,
        "pages before the fault were not read again"
    );

    // A 500, a 429 with Retry-After, a timeout on page 2, each once: the client retries that page.
    for spec in [
        json!({ "kind": "server_error", "count": 1 }),
        json!({ "kind": "rate_limited", "count": 1, "retry_after_secs": 1 }),
        json!({ "kind": "slow", "count": 1, "delay_ms": 1500 }),
    ] {
        fault(&env.env, &account, spec.clone()).await;
        let before = api_requests(&env.env).await;
        let r = run(state, &who, &c, SyncMode::Full).await;
        let used = api_requests(&env.env).await - before;
        assert_eq!(r.outcome, Some(RunOutcome::Done), "{spec}: {r:?}");
        assert_eq!(r.attempt, 1, "{spec}");
        assert_eq!(used, baseline + 1, "{spec}: only page 2 was read twice");
        assert_eq!(employees_stream(state, &r).await, (3, 250), "{spec}");
        assert_eq!(
            (r.counts.added, r.counts.changed, r.counts.deactivated),
            (0, 0, 0),
            "{spec}"
        );
        assert_eq!(in_directory(state, &who).await, merge, "{spec}");
    }
    env.finish().await;
}

// ----- 4. PARTIALLY_SYNCED, FAILED, a revoked token -----

async fn merge_sync_statuses_and_a_revoked_token(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-4").await);
    let (c, account) = synced_connection(&env.env, &who, 60).await;
    let active: Vec<String> = active_remote_ids(state, &who).await.into_iter().collect();
    let (renamed, deleted, unseen) = (&active[0], &active[1], &active[2]);
    let e = &env.env;
    let status = format!("/accounts/{account}/sync-status");

    // PARTIALLY_SYNCED: the changes are applied, nobody leaves.
    e.control(
        Method::PUT,
        &status,
        Some(json!({ "status": "PARTIALLY_SYNCED" })),
    )
    .await;
    employee_edit(
        e,
        Method::PATCH,
        &account,
        renamed,
        Some(json!({ "first_name": "Renata" })),
    )
    .await;
    employee_edit(e, Method::DELETE, &account, deleted, None).await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.outcome, Some(RunOutcome::Partial), "{r:?}");
    assert_eq!(
        person(state, &who, renamed).await.first_name.as_deref(),
        Some("Renata")
    );
    let kept = person(state, &who, deleted).await;
    assert_eq!(
        (kept.active, kept.remote_was_deleted),
        (1, 1),
        "no removal while partial"
    );
    e.control(Method::DELETE, &status, None).await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(
        (r.outcome, r.counts.deactivated),
        (Some(RunOutcome::Done), 1)
    );

    // FAILED: nothing is read; the last good data stays.
    e.control(Method::PUT, &status, Some(json!({ "status": "FAILED" })))
        .await;
    employee_edit(
        e,
        Method::PATCH,
        &account,
        unseen,
        Some(json!({ "first_name": "Ulla" })),
    )
    .await;
    let directory = in_directory(state, &who).await;
    let before = api_requests(e).await;
    let r = run(state, &who, &c, SyncMode::Full).await;
    assert_eq!(r.outcome, Some(RunOutcome::ProviderFailed), "{r:?}");
    assert_eq!(
        api_requests(e).await - before,
        1,
        "only the sync status was asked"
    );
    assert!(state.db.sync_run_streams(&r.id).await.unwrap().is_empty());
    assert_ne!(
        person(state, &who, unseen).await.first_name.as_deref(),
        Some("Ulla")
    );
    assert_eq!(in_directory(state, &who).await, directory);
    e.control(Method::DELETE, &status, None).await;

    // A revoked token: unauthorized, the connection needs a relink, the schedule stops.
    e.control(
        Method::POST,
        "/faults",
        Some(json!({ "kind": "token_revoked", "account_id": account })),
    )
    .await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.outcome, Some(RunOutcome::Unauthorized), "{r:?}");
    let record = state
        .db
        .connection(&who.org_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.health_status, HealthStatus::RelinkNeeded);
    let later = app::storage::now_ms() + 3 * 24 * 3600 * 1000;
    let tick = schedule::tick(state, later).await;
    assert_eq!(tick.queued, 0);
    assert!(state.db.pending_sync_run(&c.id).await.unwrap().is_none());
    assert_eq!(
        in_directory(state, &who).await,
        directory,
        "nothing changed"
    );

    // The relink repairs it: the schedule resumes (the relink queued a full sync).
    let session = conn::link_again(state, &who, &c.id).await.unwrap();
    let public = e.complete_link(&session.link_token, json!({})).await;
    conn::finish_link(state, &who, &c.id, &public)
        .await
        .unwrap();
    assert_eq!(pending(state, &c).await.trigger, SyncTrigger::Relink);
    let r = run_pending(state, &c).await;
    assert_eq!(r.outcome, Some(RunOutcome::Done), "{r:?}");
    assert_eq!(
        person(state, &who, unseen).await.first_name.as_deref(),
        Some("Ulla")
    );
    env.finish().await;
}

// ----- 5. relink with new Merge ids -----

async fn a_relink_with_new_merge_ids_rebinds_by_remote_id(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-5").await);
    let (c, _) = synced_connection(&env.env, &who, 120).await;
    let tok = token(state, &who, &c).await;
    let merge_ids_before: BTreeSet<String> = collect_pages(
        &PageQuery {
            page_size: Some(100),
            ..PageQuery::default()
        },
        |q| state.provider.employees(&tok, q),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| e.id)
    .collect();
    let before = people(state, &who).await;
    let shape = |all: &BTreeMap<String, EmployeeRecord>| -> Vec<(String, EmployeeId, Option<String>, bool, bool, i64)> {
        let remote_of: BTreeMap<&EmployeeId, &String> =
            all.values().map(|e| (&e.id, &e.remote_id)).collect();
        all.values()
            .map(|e| {
                (
                    e.remote_id.clone(),
                    e.id.clone(),
                    e.manager_id.as_ref().map(|m| remote_of[m].clone()),
                    e.team_id.is_some(),
                    e.location_id.is_some(),
                    e.active,
                )
            })
            .collect()
    };
    assert!(before.values().filter(|e| e.manager_id.is_some()).count() > 10);

    let session = conn::link_again(state, &who, &c.id).await.unwrap();
    let public = env
        .env
        .complete_link(&session.link_token, json!({ "new_ids": true }))
        .await;
    conn::finish_link(state, &who, &c.id, &public)
        .await
        .unwrap();
    let relink = pending(state, &c).await;
    assert_eq!(
        (relink.trigger, relink.mode),
        (SyncTrigger::Relink, SyncMode::Full)
    );
    let tok = token(state, &who, &c).await;
    let merge_ids_after: BTreeSet<String> = collect_pages(
        &PageQuery {
            page_size: Some(100),
            ..PageQuery::default()
        },
        |q| state.provider.employees(&tok, q),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| e.id)
    .collect();
    assert!(
        merge_ids_after.is_disjoint(&merge_ids_before),
        "Merge re-issued the ids"
    );

    let r = run_pending(state, &c).await;
    assert_eq!(r.outcome, Some(RunOutcome::Done), "{r:?}");
    assert_eq!(
        (r.counts.added, r.counts.deactivated),
        (0, 0),
        "{:?}",
        r.counts
    );
    let after = people(state, &who).await;
    assert_eq!(after.len(), before.len());
    assert_eq!(
        shape(&after),
        shape(&before),
        "same ids, same managers, teams, locations"
    );
    // The job titles (employments re-bound too) are still there.
    assert_eq!(
        after.values().filter(|e| e.job_title.is_some()).count(),
        before.values().filter(|e| e.job_title.is_some()).count()
    );
    // And the next run finds nothing to do.
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(
        (r.counts.added, r.counts.changed, r.counts.deactivated),
        (0, 0, 0)
    );
    env.finish().await;
}

// ----- 6. switching source -----

async fn switching_the_source_previews_cancels_and_confirms(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-6").await);
    let e = &env.env;
    // The first source: E1000..E1019 and hires H1..H5.
    let (first, first_account, _) = linked_connection(e, &who, 20).await;
    let hired = e
        .control(
            Method::POST,
            &format!("/accounts/{first_account}/hires"),
            Some(json!({ "count": 5 })),
        )
        .await;
    let first = conn::activate(state, &who, &first.id).await.unwrap();
    run_pending(state, &first).await;
    let hires: Vec<String> = hired["remote_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    // The second: E1000..E1039 of another organization; three people beyond E1019 have the work
    // e-mails of the first source's H1..H3.
    let (second, second_account, _) = linked_named(e, &who, 40, "Personio new").await;
    let second_token = token(state, &who, &second).await;
    let listing = at_merge(state, &second_token).await;
    let present =
        |v: &(Option<String>, Option<String>, bool)| !v.2 && v.1.as_deref() != Some("INACTIVE");
    let beyond: Vec<String> = listing
        .iter()
        .filter(|(r, v)| present(v) && r.as_str() > "E1019")
        .map(|(r, _)| r.clone())
        .take(3)
        .collect();
    assert_eq!(beyond.len(), 3);
    let directory = people(state, &who).await;
    for (theirs, ours) in beyond.iter().zip(&hires) {
        let mail = directory[ours].work_email.clone().unwrap().to_uppercase();
        employee_edit(
            e,
            Method::PATCH,
            &second_account,
            theirs,
            Some(json!({ "work_email": mail })),
        )
        .await;
    }

    // What the preview must say, from the sandbox's data.
    let incoming: BTreeSet<String> = at_merge(state, &second_token)
        .await
        .into_iter()
        .filter(|(_, v)| present(v))
        .map(|(r, _)| r)
        .collect();
    let current = active_remote_ids(state, &who).await;
    let by_remote = current.intersection(&incoming).count() as i64;
    let matched = by_remote + 3;
    let expected = (
        incoming.len() as i64 - matched,
        current.len() as i64 - matched,
        matched,
        3,
    );

    let p = preview::compute(state, &who, &EN, &second.id)
        .await
        .unwrap();
    assert_eq!(
        (p.joiners, p.leavers, p.matched, p.matched_by_email),
        expected,
        "{p:?}"
    );
    // Cancel: nothing changes.
    let directory_before = in_directory(state, &who).await;
    preview::cancel(state, &who, &EN, &p.id).await.unwrap();
    assert_eq!(in_directory(state, &who).await, directory_before);
    let enabled = |cs: Vec<app::storage::ConnectionRecord>| -> Vec<bool> {
        let mut v: Vec<_> = cs.iter().map(|c| (c.id == first.id, c.enabled)).collect();
        v.sort();
        v.into_iter().map(|(_, e)| e).collect()
    };
    assert_eq!(
        enabled(state.db.connections(&who.org_id).await.unwrap()),
        vec![false, true],
        "the first source is still the active one"
    );
    assert!(
        preview::confirm(state, &who, &EN, &p.id).await.is_err(),
        "a cancelled preview"
    );

    // Confirm: the second is active, matched people keep their ids, leavers leave.
    let p = preview::compute(state, &who, &EN, &second.id)
        .await
        .unwrap();
    preview::confirm(state, &who, &EN, &p.id).await.unwrap();
    assert_eq!(
        enabled(state.db.connections(&who.org_id).await.unwrap()),
        vec![true, false]
    );
    let run = pending(state, &second).await;
    assert_eq!(
        (run.trigger, run.mode),
        (SyncTrigger::Activation, SyncMode::Full)
    );
    let r = run_pending(state, &second).await;
    assert_eq!(r.outcome, Some(RunOutcome::Done), "{r:?}");
    let after = people(state, &who).await;
    let old_ids: BTreeSet<&EmployeeId> = directory.values().map(|e| &e.id).collect();
    let joined = after
        .values()
        .filter(|e| e.active == 1 && !old_ids.contains(&e.id))
        .count() as i64;
    assert_eq!(joined, expected.0, "the joiners are new people");
    let now_active: BTreeSet<String> = after
        .values()
        .filter(|e| e.active == 1)
        .map(|e| {
            assert_eq!(
                e.connection_id, second.id,
                "{} is of the new source",
                e.remote_id
            );
            e.remote_id.clone()
        })
        .collect();
    assert_eq!(now_active, incoming);
    for (theirs, ours) in beyond.iter().zip(&hires) {
        assert_eq!(
            after[theirs].id, directory[ours].id,
            "matched by e-mail keeps the id"
        );
    }
    for r in current.intersection(&incoming) {
        assert_eq!(
            after[r].id, directory[r].id,
            "matched by remote id keeps the id"
        );
    }
    let (active, _) = state.db.employee_counts(&who.org_id).await.unwrap();
    assert_eq!(active, incoming.len() as i64);
    env.finish().await;
}

// ----- 7. the safety brake at its default -----

async fn the_default_brake_holds_thirty_percent_and_keep_everyone_sticks(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-scn-7").await);
    assert_eq!(state.settings.sync.max_deactivate_percent, 10.0);
    let (c, account) = synced_connection(&env.env, &who, 100).await;
    let (active_before, _) = state.db.employee_counts(&who.org_id).await.unwrap();
    let left = env
        .env
        .control(
            Method::POST,
            &format!("/accounts/{account}/leavers"),
            Some(json!({ "action": "terminate", "percent": 30 })),
        )
        .await;
    let leavers: Vec<String> = left["remote_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(leavers.len() >= 25, "{}", leavers.len());

    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(r.outcome, Some(RunOutcome::Held), "{r:?}");
    assert_eq!(
        (r.counts.held, r.counts.deactivated),
        (leavers.len() as i64, 0)
    );
    assert_eq!(
        state.db.employee_counts(&who.org_id).await.unwrap().0,
        active_before
    );

    // Keep everyone.
    let kept = removals::decide(state, &who, &EN, &r.id, HoldState::Kept)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    assert!(removals::pending(state, &who).await.unwrap().is_none());
    for mode in [SyncMode::Incremental, SyncMode::Full] {
        let r = run(state, &who, &c, mode).await;
        assert_eq!(r.outcome, Some(RunOutcome::Done), "{mode:?}: {r:?}");
        assert_eq!((r.counts.held, r.counts.deactivated), (0, 0), "{mode:?}");
    }
    assert_eq!(
        state.db.employee_counts(&who.org_id).await.unwrap().0,
        active_before
    );
    // Until their record changes: then they leave (one is within the brake).
    employee_edit(
        &env.env,
        Method::PATCH,
        &account,
        &leavers[0],
        Some(json!({ "last_name": "Changed" })),
    )
    .await;
    let r = run(state, &who, &c, SyncMode::Incremental).await;
    assert_eq!(
        (r.outcome, r.counts.deactivated),
        (Some(RunOutcome::Done), 1),
        "{r:?}"
    );
    assert_eq!(person(state, &who, &leavers[0]).await.active, 0);
    env.finish().await;
}
