//! The sync benchmark's measuring process (`scripts/bench-sync.sh` runs it; it asserts nothing).
//!
//! `bench_sync --sandbox <url> --size <n> --database sqlite|<postgres admin url>`
//!
//! Against a `merge-sandbox` running as its own process, this process links one connection of `n`
//! employees, then executes its runs itself with the sync engine (`engine::execute`, as a worker
//! does): the activation's full sync, then an incremental run after 1 % of the employees were
//! terminated at the sandbox. For each it prints one tab-separated line:
//! `phase  seconds  records  peak_rss_kib` (records: employees + employments read; peak RSS: this
//! process's `VmHWM`, reset before each phase through `/proc/self/clear_refs`).
//!
//! The incremental window's overlap is 0 here: the sandbox's generated records were all modified
//! within the default 5 minutes before the full run, which would make the "1 %" run re-read all.

use std::{collections::HashMap, sync::Arc, time::Instant};

use app::{
    auth::dev::{demo_identity, in_organization},
    domain::{
        connections as conn,
        sync::{engine, triggers},
    },
    model::SyncRunId,
    state::AppState,
    storage::{SyncMode, SyncTrigger},
};
use serde_json::{json, Value};
use sqlx::Connection;

struct Args {
    sandbox: String,
    size: usize,
    database: String,
}

fn args() -> Args {
    let mut a = Args {
        sandbox: "http://127.0.0.1:4010".into(),
        size: 10_000,
        database: "sqlite".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--sandbox" => a.sandbox = v,
            "--size" => a.size = v.parse().expect("--size: a number"),
            "--database" => a.database = v,
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// The process's peak resident set since the last reset, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak_rss() {
    // "5" resets the peak resident set size (Linux 4.0+).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn control(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let res = http
        .request(
            if path.starts_with("/organizations") {
                reqwest::Method::PUT
            } else {
                reqwest::Method::POST
            },
            format!("{base}/sandbox{path}"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap_or(Value::Null)
}

/// Runs the run to its end as a worker would; prints its line.
async fn measure(state: &AppState, phase: &str, run_id: &SyncRunId) {
    reset_peak_rss();
    let start = Instant::now();
    loop {
        match engine::execute(state, run_id).await {
            engine::Executed::Finished(outcome) => {
                assert!(
                    matches!(
                        outcome,
                        app::storage::RunOutcome::Done | app::storage::RunOutcome::Held
                    ),
                    "{phase}: {outcome:?}"
                );
                break;
            }
            engine::Executed::RetryAfter(after) => tokio::time::sleep(after).await,
            other => panic!("{phase}: {other:?}"),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let records: i64 = state
        .db
        .sync_run_streams(run_id)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.stream == "employees" || s.stream == "employments")
        .map(|s| s.records)
        .sum();
    println!("{phase}\t{seconds:.3}\t{records}\t{}", peak_rss_kib());
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = std::env::temp_dir().join(format!("hris-bench-{}", uuid::Uuid::new_v4().simple()));
    let mut vars: HashMap<&str, String> = [
        ("HRIS_DATA_DIR", dir.display().to_string()),
        ("HRIS_BIND_ADDR", "127.0.0.1:0".to_string()),
        ("MERGE_API_BASE_URL", format!("{}/api", args.sandbox)),
        ("MERGE_API_KEY", "sandbox-api-key".to_string()),
        (
            "MERGE_LINK_SCRIPT_URL",
            format!("{}/initialize.js", args.sandbox),
        ),
    ]
    .into();
    let mut pg = None;
    if args.database != "sqlite" {
        sqlx::any::install_default_drivers();
        let name = format!("hris_bench_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::AnyConnection::connect(&args.database).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        vars.insert(
            "DATABASE_URL",
            app::storage::with_database(&args.database, &name),
        );
        pg = Some(name);
    }
    let config = server::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let prepared = server::startup::prepare(&config).await.unwrap();
    let mut state = prepared.state;
    let mut settings = (*state.settings).clone();
    settings.sync.overlap = std::time::Duration::ZERO;
    state.settings = Arc::new(settings);
    let http = reqwest::Client::new();

    let who = in_organization(demo_identity("alice").unwrap(), "org-bench").unwrap();
    app::domain::organization::set_hris_enabled(&state.db, &who, true)
        .await
        .unwrap();
    let session = conn::start_direct(&state, &who, "personio", "Personio")
        .await
        .unwrap();
    let record = state
        .db
        .connection(&who.org_id, &session.connection_id)
        .await
        .unwrap()
        .unwrap();
    control(
        &http,
        &args.sandbox,
        &format!("/organizations/{}", record.end_user_origin_id),
        json!({ "employees": args.size, "evolve": false }),
    )
    .await;
    let public = control(
        &http,
        &args.sandbox,
        &format!("/link-tokens/{}/complete", session.link_token),
        json!({ "integration": "personio" }),
    )
    .await["public_token"]
        .as_str()
        .unwrap()
        .to_string();
    conn::finish_link(&state, &who, &session.connection_id, &public)
        .await
        .unwrap();
    let c = conn::activate(&state, &who, &session.connection_id)
        .await
        .unwrap();
    let full = state.db.pending_sync_run(&c.id).await.unwrap().unwrap();
    measure(&state, "full", &full.id).await;

    let account = state
        .db
        .connection(&who.org_id, &c.id)
        .await
        .unwrap()
        .unwrap()
        .linked_account_id
        .unwrap();
    control(
        &http,
        &args.sandbox,
        &format!("/accounts/{account}/leavers"),
        json!({ "action": "terminate", "percent": 1 }),
    )
    .await;
    let incremental = match triggers::request(
        &state,
        &who.org_id,
        &c.id,
        SyncTrigger::Manual,
        "bench:incremental".into(),
        SyncMode::Incremental,
    )
    .await
    .unwrap()
    {
        triggers::Requested::Queued(run) => run,
        other => panic!("{other:?}"),
    };
    measure(&state, "incremental", &incremental.id).await;

    state.db.close().await;
    if let Some(name) = pg {
        let mut c = sqlx::AnyConnection::connect(&args.database).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
