//! The sync across processes (issue 13): the real `server` binary killed with `kill -9` in the
//! middle of a run and started again (SQLite and PostgreSQL), two server processes sharing one
//! PostgreSQL while triggers arrive together, and a soak of the embedded engine over an hour of
//! simulated schedule.
//!
//! The servers are child processes of this test (`CARGO_BIN_EXE_server`), pointed at the Merge
//! sandbox that runs in the test process; the test reads their database directly.

mod common;
mod support;

use common::sync::{at_merge, in_directory, token};

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::{
    auth::Identity,
    domain::{
        connections as conn,
        sync::{schedule, triggers},
    },
    i18n::EN,
    model::ConnectionView,
    state::AppState,
    storage::{RunOutcome, RunState, SyncMode, SyncRunRecord, SyncTrigger},
};
use serde_json::json;
use support::{Backend, SecEnv};

on_both_backends!(a_run_killed_mid_way_resumes_from_its_checkpoints_in_a_new_process);

/// A `server` process of this build, its output in a log file.
struct ServerProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the server with the test environment's data directory, database and sandbox, plus
    /// `extra` variables.
    fn start(name: &'static str, env: &SecEnv, extra: &[(&str, &str)]) -> ServerProcess {
        let dir = env.env.data_dir();
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let settings = &env.env.state.settings;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,sqlx=warn")
            .env("HRIS_LOG_FORMAT", "json")
            .env("HRIS_DATA_DIR", dir)
            .env("HRIS_BIND_ADDR", "127.0.0.1:0")
            .env("MERGE_API_BASE_URL", &settings.provider_base_url)
            .env("MERGE_API_KEY", "sandbox-api-key")
            .env(
                "MERGE_LINK_SCRIPT_URL",
                format!("{}/initialize.js", env.env.sandbox_url),
            )
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        if let Some(url) = env.database_url() {
            cmd.env("DATABASE_URL", url);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the server binary starts");
        ServerProcess { name, child, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the server's "listening on" line; its base URL.
    async fn url(&mut self) -> String {
        for _ in 0..600 {
            if let Some(line) = self
                .output()
                .lines()
                .find_map(|l| l.strip_prefix("listening on "))
            {
                return line.trim().to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.name, self.output());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} did not listen:\n{}", self.name, self.output());
    }

    /// `kill -9`: no shutdown, no last write.
    fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }

    /// Log lines of this process that say `what`.
    fn count(&self, what: &str) -> usize {
        self.output().lines().filter(|l| l.contains(what)).count()
    }

    /// Log lines (JSON) of this process that say `what` about the run `id`.
    fn lines_about(&self, id: &str, what: &str) -> usize {
        let run = format!("\"run\":\"{id}\"");
        self.output()
            .lines()
            .filter(|l| l.contains(what) && l.contains(&run))
            .count()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A direct connection of `size` employees, linked (the sandbox's generated data stays still when
/// `evolve` is false); returns it with its linked account id. Not yet active.
async fn linked_connection(
    env: &common::TestEnv,
    who: &Identity,
    size: usize,
    evolve: bool,
) -> (String, String) {
    let id = common::sync::linked(env, who, size, evolve).await;
    let account = common::sync::account_of(&env.state, who, &id).await;
    (id.to_string(), account.to_string())
}

async fn activate(env: &common::TestEnv, who: &Identity) -> ConnectionView {
    let c = env
        .state
        .db
        .connections(&who.org_id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    conn::activate(&env.state, who, &c.id).await.unwrap()
}

/// Polls `probe` every 50 ms until it answers, for at most `limit`.
async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn employees_stream(state: &AppState, run: &SyncRunRecord) -> app::storage::StreamProgress {
    state
        .db
        .sync_run_streams(&run.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.stream == "employees")
        .unwrap_or(app::storage::StreamProgress {
            stream: "employees".into(),
            modified_after: None,
            cursor: None,
            pages: 0,
            records: 0,
            done: 0,
        })
}

/// 3,000 employees (30 pages of 100), pages 6 to 30 of the employees slowed to 150 ms each.
const KILL_SIZE: usize = 3_000;

async fn a_run_killed_mid_way_resumes_from_its_checkpoints_in_a_new_process(backend: Backend) {
    let env = SecEnv::start(backend).await;
    let (state, who) = (&env.env.state, env.env.admin("org-proc-kill").await);
    let (_, account) = linked_connection(&env.env, &who, KILL_SIZE, false).await;
    for page in 6..=30 {
        env.env
            .control(
                reqwest::Method::POST,
                "/faults",
                Some(
                    json!({ "kind": "slow", "account_id": account, "stream": "employees",
                             "page": page, "delay_ms": 150 }),
                ),
            )
            .await;
    }
    // Activation in this process queues the full run (and its job) on the shared database.
    let c = activate(&env.env, &who).await;
    let run = state.db.pending_sync_run(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (run.trigger, run.mode),
        (SyncTrigger::Activation, SyncMode::Full)
    );

    let vars = [
        ("HRIS_SYNC_LEASE_SECONDS", "2"),
        ("HRIS_SYNC_TICK_SECONDS", "1"),
        ("HRIS_SYNC_WORKERS", "2"),
    ];
    let mut first = ServerProcess::start("first", &env, &vars);
    first.url().await;
    // Some pages are committed, the run is mid-way: kill -9.
    wait_for("pages committed", Duration::from_secs(60), || async {
        let s = employees_stream(state, &run).await;
        (s.pages >= 8).then_some(())
    })
    .await;
    first.kill9();
    let before = employees_stream(state, &run).await;
    let killed = state.db.sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(killed.state, RunState::Running, "the dead worker's run");
    assert!(
        before.pages >= 8 && before.pages < 30 && before.done == 0,
        "mid-way: {before:?}"
    );
    assert_eq!(before.records, before.pages * 100);

    let mut second = ServerProcess::start("second", &env, &vars);
    second.url().await;
    let start = Instant::now();
    let done = loop {
        let r = state.db.sync_run(&run.id).await.unwrap().unwrap();
        if r.state == RunState::Finished {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run did not finish: {r:?}\n{}",
            second.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done.outcome, Some(RunOutcome::Done), "{done:?}");
    assert!(
        done.attempt > killed.attempt,
        "a new attempt took the run over: {} after {}",
        done.attempt,
        killed.attempt
    );
    // Each page committed once: the pages before the kill were not read again.
    let after = employees_stream(state, &run).await;
    assert_eq!((after.pages, after.records, after.done), (30, 3_000, 1));
    assert_eq!(
        second.lines_about(run.id.as_ref(), "sync run finished"),
        1,
        "{}",
        second.output()
    );
    assert_eq!(
        second.lines_about(run.id.as_ref(), "watchdog: worker stopped beating"),
        1
    );
    // Nobody lost, nobody twice: the directory is exactly the sandbox's listing.
    let merge = at_merge(state, &token(state, &who, &c).await).await;
    assert_eq!(merge.len(), KILL_SIZE);
    assert_eq!(in_directory(state, &who).await, merge);
    println!(
        "{backend:?}: killed after {} of 30 pages (attempt {}); resumed as attempt {} from page {}",
        before.pages,
        killed.attempt,
        done.attempt,
        before.pages + 1
    );
    drop(second);
    env.finish().await;
}

/// Raw reads of the shared database (what the rules promise, sampled while the servers run).
async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgresql_make_one_run_per_trigger() {
    let env = SecEnv::start(Backend::Postgres).await;
    let state = &env.env.state;
    let vars = [
        ("HRIS_SYNC_LEASE_SECONDS", "10"),
        ("HRIS_SYNC_TICK_SECONDS", "1"),
        ("HRIS_SYNC_WORKERS", "2"),
        // Hourly: the servers' own polls do not queue runs while the test checks its end state.
        ("HRIS_SYNC_POLL_MINUTES", "60"),
        ("HRIS_SYNC_MAX_DEACTIVATE_PERCENT", "100"),
    ];
    let mut a = ServerProcess::start("a", &env, &vars);
    let mut b = ServerProcess::start("b", &env, &vars);
    let a_url = a.url().await;
    b.url().await;
    // Merge's webhooks go to server a.
    env.env
        .control(
            reqwest::Method::PUT,
            "/webhook",
            Some(json!({ "url": format!("{a_url}/webhooks/merge"),
                         "signing_key": state.settings.webhook_keys[0] })),
        )
        .await;

    // The sampler: never two queued-or-running runs for one connection, at any moment.
    let pool = raw_pool(&env.database_url().unwrap()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (pool, stop, samples) = (pool.clone(), stop.clone(), samples.clone());
        tokio::spawn(async move {
            let mut violations = Vec::new();
            let mut busiest = 0i64;
            while !stop.load(Ordering::SeqCst) {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT connection_id, COUNT(*) FROM sync_runs
                     WHERE state IN ('queued', 'running') GROUP BY connection_id",
                )
                .fetch_all(&pool)
                .await
                .unwrap();
                violations.extend(rows.iter().filter(|(_, n)| *n > 1).cloned());
                let (running,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM sync_runs WHERE state = 'running'")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                busiest = busiest.max(running);
                samples.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (violations, busiest)
        })
    };

    let mut orgs = Vec::new();
    for i in 0..3 {
        let who = env.env.admin(&format!("org-proc-two-{i}")).await;
        let (_, account) = linked_connection(&env.env, &who, 300, true).await;
        let c = activate(&env.env, &who).await;
        orgs.push((who, c, account));
    }
    let idle = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sync_runs WHERE state IN ('queued', 'running')")
                .fetch_one(&pool)
                .await
                .unwrap();
        (n == 0).then_some(())
    };
    wait_for("the activation runs", Duration::from_secs(120), idle).await;

    // Rounds of triggers arriving together at every connection: Merge's webhook (to server a),
    // the schedule (both servers' ticks and this process's), Sync now.
    for round in 0..4 {
        let mut fired = Vec::new();
        for (who, c, account) in &orgs {
            let path = format!("/accounts/{account}/sync");
            let control = env.env.control(reqwest::Method::POST, &path, None);
            let (_, tick, manual) = tokio::join!(
                control,
                schedule::tick(state, app::storage::now_ms()),
                triggers::sync_now(state, who, &EN),
            );
            fired.push((c.id.clone(), tick.queued, manual.is_ok()));
        }
        println!("round {round}: {fired:?}");
        wait_for("the round's runs", Duration::from_secs(120), idle).await;
    }
    // Above, the webhook mostly joins the run Sync now queued; alone, it queues its own.
    for (_, _, account) in &orgs {
        let path = format!("/accounts/{account}/sync");
        env.env.control(reqwest::Method::POST, &path, None).await;
    }
    wait_for("the webhooks' runs", Duration::from_secs(120), || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sync_runs WHERE trigger_kind = 'webhook' AND state = 'finished'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        (n >= orgs.len() as i64).then_some(())
    })
    .await;
    // Quiet: no run pending, and none new for three seconds (a webhook delivered late under load
    // queues its run after the others finished).
    let total_runs = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sync_runs")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };
    for _ in 0..20 {
        wait_for("the last runs", Duration::from_secs(120), idle).await;
        let before = total_runs().await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        if total_runs().await == before && idle().await.is_some() {
            break;
        }
    }
    let hooks = a.count("webhook handled");
    assert!(hooks >= 5 * orgs.len(), "webhooks handled by a: {hooks}");
    stop.store(true, Ordering::SeqCst);
    let (violations, busiest) = sampler.await.unwrap();
    assert!(
        violations.is_empty(),
        "two pending runs for one connection: {violations:?}"
    );
    assert!(samples.load(Ordering::SeqCst) > 50, "the table was sampled");

    // One run per trigger key; every run finished, exactly once.
    let dup: Vec<(String, i64)> = sqlx::query_as(
        "SELECT trigger_key, COUNT(*) FROM sync_runs GROUP BY trigger_key HAVING COUNT(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(dup.is_empty(), "{dup:?}");
    let mut by_server = BTreeMap::<&str, usize>::new();
    let mut triggers_seen = BTreeSet::new();
    let mut total = 0;
    for (who, _, _) in &orgs {
        let runs = state.db.sync_runs(&who.org_id, 1000, 0).await.unwrap();
        assert!(runs.len() >= 5, "activation and the rounds: {}", runs.len());
        for r in runs {
            total += 1;
            triggers_seen.insert(<&str>::from(r.trigger));
            assert_eq!(r.state, RunState::Finished, "{r:?}");
            assert!(r.finished_at.is_some());
            let id = r.id.to_string();
            let ends = |p: &ServerProcess| {
                p.lines_about(&id, "sync run finished")
                    + p.lines_about(&id, "sync run ended without applying")
            };
            let (in_a, in_b) = (ends(&a), ends(&b));
            assert_eq!(in_a + in_b, 1, "run {id} finished {in_a} + {in_b} times");
            *by_server
                .entry(if in_a == 1 { "a" } else { "b" })
                .or_default() += 1;
        }
    }
    assert!(
        triggers_seen.contains("webhook") && triggers_seen.contains("manual"),
        "{triggers_seen:?}"
    );
    println!(
        "{total} runs, finished by server {by_server:?}, triggers {triggers_seen:?}, \
         {hooks} webhooks, at most {busiest} running at once, {} samples",
        samples.load(Ordering::SeqCst)
    );
    for (who, c, _) in &orgs {
        let merge = at_merge(state, &token(state, who, c).await).await;
        assert_eq!(in_directory(state, who).await, merge);
    }
    drop((a, b));
    pool.close().await;
    env.finish().await;
}

/// An hour of schedule, simulated: polls every 3 minutes for two connections, the HR system
/// changing between them, on the embedded engine (apalis on SQLite) in this process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_engine_runs_every_due_poll_of_a_simulated_hour() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,apalis_core=info")
        .with_test_writer()
        .try_init();
    let env = SecEnv::start(Backend::Sqlite).await;
    let base = env.env.state.clone();
    let with = |f: &dyn Fn(&mut app::domain::sync::SyncSettings)| {
        let mut s = base.clone();
        let mut settings = (*base.settings).clone();
        settings.sync.max_deactivate_percent = 100.0;
        f(&mut settings.sync);
        s.settings = Arc::new(settings);
        s
    };
    // The engine: real time, a short lease and grace (its watchdog pushes lost jobs again), and a
    // schedule of its own that stays out of the way (one poll a week).
    let engine_state = with(&|s| {
        s.lease = Duration::from_secs(2);
        s.queued_grace = Duration::from_secs(2);
        s.poll_interval = Duration::from_secs(7 * 24 * 3600);
        s.full_interval = Duration::from_secs(30 * 24 * 3600);
    });
    // The simulated schedule: a poll every 3 minutes; its watchdog never fires (simulated time
    // runs ahead of the rows' real timestamps).
    let poll = Duration::from_secs(180);
    let sim_state = with(&|s| {
        s.poll_interval = poll;
        s.full_interval = Duration::from_secs(30 * 24 * 3600);
        s.lease = Duration::from_secs(24 * 3600);
        s.queued_grace = Duration::from_secs(24 * 3600);
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = server::jobs::spawn(
        env.env.jobs.clone(),
        engine_state.clone(),
        server::jobs::EngineSettings {
            workers: 2,
            tick_seconds: 1,
        },
        async move {
            let _ = stopped.await;
        },
    );
    let state = &sim_state;
    // Merge's webhooks are not the subject here (nothing listens for them).
    env.env
        .control(reqwest::Method::DELETE, "/webhook", None)
        .await;
    let mut orgs = Vec::new();
    for i in 0..2 {
        let who = env.env.admin(&format!("org-proc-soak-{i}")).await;
        let (_, account) = linked_connection(&env.env, &who, 200, true).await;
        let c = activate(&env.env, &who).await;
        orgs.push((who, c, account));
    }
    settle(state, &orgs, "activation").await;

    let real_start = Instant::now();
    let t0 = app::storage::now_ms();
    let steps = 3600 / poll.as_secs() as i64;
    let mut due = Vec::new();
    for step in 1..=steps {
        let now = t0 + step * poll.as_millis() as i64;
        if step % 2 == 1 {
            for (_, _, account) in &orgs {
                env.env
                    .control(
                        reqwest::Method::POST,
                        &format!("/accounts/{account}/sync"),
                        None,
                    )
                    .await;
            }
        }
        // The same tick again is harmless; it is repeated while the engine's own poll is pending.
        loop {
            schedule::tick(state, now).await;
            let mut missing = false;
            for (who, c, _) in &orgs {
                let key = format!("poll:{}:{}", c.id, now / poll.as_millis() as i64);
                let exists: bool = state
                    .db
                    .sync_runs(&who.org_id, 1000, 0)
                    .await
                    .unwrap()
                    .iter()
                    .any(|r| r.trigger_key == key);
                missing |= !exists;
            }
            if !missing {
                break;
            }
            settle(state, &orgs, &format!("step {step} (engine's own run)")).await;
        }
        settle(state, &orgs, &format!("step {step}")).await;
        due.push(now / poll.as_millis() as i64);
    }
    let elapsed = real_start.elapsed();

    let mut pushed_again = 0;
    let mut runs_seen = 0;
    for (who, c, _) in &orgs {
        let runs = state.db.sync_runs(&who.org_id, 1000, 0).await.unwrap();
        for period in &due {
            let key = format!("poll:{}:{period}", c.id);
            let r = runs
                .iter()
                .find(|r| r.trigger_key == key)
                .unwrap_or_else(|| panic!("no run for {key}"));
            assert_eq!(r.state, RunState::Finished, "{r:?}");
            assert!(
                matches!(r.outcome, Some(RunOutcome::Done)),
                "{:?}: {:?}",
                r.outcome,
                r.outcome_detail
            );
        }
        for r in &runs {
            assert_eq!(r.state, RunState::Finished, "{r:?}");
            pushed_again += (r.pushes - 1).max(0);
            runs_seen += 1;
        }
        let merge = at_merge(state, &token(state, who, c).await).await;
        assert_eq!(in_directory(state, who).await, merge);
    }
    println!(
        "soak: {steps} simulated polls x {} connections ({runs_seen} runs) in {:.1} s real; \
         {pushed_again} pushed again by the watchdog",
        orgs.len(),
        elapsed.as_secs_f64()
    );
    let _ = stop.send(());
    let _ = engine.await;
    env.finish().await;
}

/// Waits until none of the connections has a queued or running run (20 s at most: a run left
/// queued is a run the engine lost).
async fn settle(state: &AppState, orgs: &[(Identity, ConnectionView, String)], what: &str) {
    let start = Instant::now();
    loop {
        let mut busy = Vec::new();
        for (_, c, _) in orgs {
            if let Some(r) = state.db.pending_sync_run(&c.id).await.unwrap() {
                busy.push(r);
            }
        }
        if busy.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: runs stuck: {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
