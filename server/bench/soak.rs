//! The soak (`hris-bench --soak <seconds>`, scripts/soak.sh): on each backend (SQLite, then
//! PostgreSQL when reachable), `--admins` admins, each signed in to an organization of its own with
//! two connections, list and test their connections over loopback one request after another for
//! the given time, while the Merge sandbox is made to answer with 500s, 429s and slow answers. It
//! reports requests served, latency, errors by kind, and that no row was lost or duplicated: the
//! connections are the same before and after, and every Test Connection that answered wrote exactly
//! one audit event. It measures; it asserts nothing.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use axum::http::{header, StatusCode};
use sqlx::Row;

use super::{histogram, ms, postgres_admin, serve, tempdir, Args, Env, Samples};

const TEST: &str = "/api/connections/test";
const LIST: &str = super::LIST;

/// The faults the sandbox is told to inject, one after another, one each second.
fn faults() -> [(&'static str, serde_json::Value); 3] {
    [
        (
            "500",
            serde_json::json!({ "kind": "server_error", "count": 2 }),
        ),
        (
            "429",
            serde_json::json!({ "kind": "rate_limited", "count": 2, "retry_after_secs": 1 }),
        ),
        (
            "slow (1.5 s)",
            serde_json::json!({ "kind": "slow", "count": 4, "delay_ms": 1500 }),
        ),
    ]
}

/// What one backend's soak found.
struct Report {
    backend: &'static str,
    seconds: f64,
    list: Samples,
    test: Samples,
    /// How the answers went, by kind ("list: 200", "test: 200, works", "test: HTTP 503", ...).
    outcomes: BTreeMap<String, u64>,
    injected: BTreeMap<&'static str, u64>,
    connections_before: Vec<String>,
    connections_after: Vec<String>,
    tested_audits_added: i64,
    tests_answered: u64,
}

/// Rows the check compares: every connection id, and how many Test Connection audit events.
async fn rows(url: &str) -> (Vec<String>, i64) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("database");
    let ids = sqlx::query("SELECT id FROM connections ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("connections")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let tested: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_events WHERE action = 'connection.tested'")
            .fetch_one(&mut conn)
            .await
            .expect("audit events")
            .get(0);
    conn.close().await.ok();
    (ids, tested)
}

async fn soak_one(
    args: &Args,
    backend: &'static str,
    database_url: Option<String>,
    run: Duration,
) -> Report {
    let data = tempdir("hris-soak");
    let url = database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/hris.db", data.display()));
    let env = Env::start(args, &data, database_url.as_deref()).await;
    let sandbox = args.sandbox.trim_end_matches('/').to_string();
    let mut admins = Vec::new();
    for i in 0..args.admins {
        let cookie = env.sign_in(&format!("Soak {i}")).await;
        let a = env.link(&cookie, &sandbox, "personio", "Personio").await;
        let b = env.link(&cookie, &sandbox, "hibob", "HiBob").await;
        admins.push((cookie, [a, b]));
    }
    let (connections_before, tested_before) = rows(&url).await;
    let (base, stop) = serve(env.router.clone()).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    let start = Instant::now();
    let deadline = start + run;
    let injector = {
        let (client, sandbox) = (client.clone(), sandbox.clone());
        tokio::spawn(async move {
            let mut injected: BTreeMap<&'static str, u64> = BTreeMap::new();
            for (name, fault) in faults().into_iter().cycle() {
                if Instant::now() >= deadline {
                    break;
                }
                let sent = client
                    .post(format!("{sandbox}/sandbox/faults"))
                    .json(&fault)
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    *injected.entry(name).or_default() += 1;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            injected
        })
    };
    let tasks: Vec<_> = admins
        .into_iter()
        .map(|(cookie, ids)| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let (mut list, mut test) = (histogram(), histogram());
                let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    // list, test the first, list, test the second, ...
                    let (path, form, kind) = match n % 4 {
                        1 => (TEST, format!("id={}", ids[0]), "test"),
                        3 => (TEST, format!("id={}", ids[1]), "test"),
                        _ => (LIST, String::new(), "list"),
                    };
                    n += 1;
                    let t = Instant::now();
                    let sent = client
                        .post(format!("{base}{path}"))
                        .header(header::COOKIE, &cookie)
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(form)
                        .send()
                        .await;
                    let outcome = match sent {
                        Ok(res) if res.status() == StatusCode::OK => {
                            let body = res.bytes().await.unwrap_or_default();
                            let elapsed = t.elapsed();
                            if kind == "list" {
                                list.record(elapsed);
                                "list: 200".to_string()
                            } else {
                                test.record(elapsed);
                                let ok = serde_json::from_slice::<serde_json::Value>(&body)
                                    .ok()
                                    .and_then(|v| v["ok"].as_bool());
                                match ok {
                                    Some(true) => "test: 200, works".into(),
                                    Some(false) => {
                                        "test: 200, the provider's fault reported".into()
                                    }
                                    None => "test: 200, unreadable answer".into(),
                                }
                            }
                        }
                        Ok(res) => format!("{kind}: HTTP {}", res.status().as_u16()),
                        Err(e) if e.is_timeout() => format!("{kind}: timed out (60 s)"),
                        Err(_) => format!("{kind}: connection failed"),
                    };
                    *outcomes.entry(outcome).or_default() += 1;
                }
                (list, test, outcomes)
            })
        })
        .collect();
    let mut report = Report {
        backend,
        seconds: 0.0,
        list: histogram(),
        test: histogram(),
        outcomes: BTreeMap::new(),
        injected: BTreeMap::new(),
        connections_before,
        connections_after: Vec::new(),
        tested_audits_added: 0,
        tests_answered: 0,
    };
    for task in tasks {
        let (list, test, outcomes) = task.await.expect("admin task");
        report.list.add(list);
        report.test.add(test);
        for (k, v) in outcomes {
            *report.outcomes.entry(k).or_default() += v;
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.injected = injector.await.expect("fault task");
    let _ = client
        .delete(format!("{sandbox}/sandbox/faults"))
        .send()
        .await;
    let _ = stop.send(());
    report.list.sort();
    report.test.sort();
    report.tests_answered = report.test.len() as u64;
    let (after, tested_after) = rows(&url).await;
    report.connections_after = after;
    report.tested_audits_added = tested_after - tested_before;
    env.db_close().await;
    let _ = std::fs::remove_dir_all(&data);
    report
}

pub async fn run(args: &Args, run: Duration) {
    let mut reports = vec![soak_one(args, "SQLite", None, run).await];
    let mut skipped = None;
    match &args.postgres {
        None => skipped = Some("no PostgreSQL given (TEST_DATABASE_URL)".to_string()),
        Some(admin) => match postgres_admin(admin).await {
            Err(e) => skipped = Some(format!("PostgreSQL not reachable: {e}")),
            Ok(mut conn) => {
                let name = format!("hris_soak_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create the soak's database");
                let url = app::storage::with_database(admin, &name);
                reports.push(soak_one(args, "PostgreSQL", Some(url), run).await);
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        },
    }
    print(args, run, &reports, skipped.as_deref());
}

fn print(args: &Args, run: Duration, reports: &[Report], skipped: Option<&str>) {
    println!(
        "## Soak: {} admins listing and testing connections under provider faults",
        args.admins
    );
    println!();
    println!(
        "Each of {} admins (an organization of its own, two linked connections) sends one request \
         after another for {} s per backend over loopback: `connections/list`, Test Connection of \
         the first, `connections/list`, Test Connection of the second, ... Meanwhile the Merge \
         sandbox is told each second, in turn, to answer the next 2 calls with 500, the next 2 \
         with 429 (`Retry-After: 1`), the next 4 after 1.5 s. The server runs in this process \
         (release build, every layer); the sandbox is the debug build.",
        args.admins,
        run.as_secs()
    );
    println!();
    println!("| backend | kind | served | req/s | p50 ms | p99 ms | max ms |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in reports {
        for (kind, h) in [("connections/list", &r.list), ("Test Connection", &r.test)] {
            println!(
                "| {} | {kind} | {} | {:.0} | {} | {} | {:.0} |",
                r.backend,
                h.len(),
                h.len() as f64 / r.seconds,
                ms(h, 0.5),
                ms(h, 0.99),
                h.max() as f64 / 1000.0
            );
        }
    }
    println!();
    println!("| backend | answers by kind | faults injected | connections before → after | Test Connection audits added / tests answered | rows lost or duplicated |");
    println!("|---|---|---|---|---|---|");
    for r in reports {
        let answers: Vec<String> = r
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let injected: Vec<String> = r
            .injected
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let same = r.connections_before == r.connections_after;
        let audits_exact = r.tested_audits_added == r.tests_answered as i64;
        println!(
            "| {} | {} | {} | {} → {}{} | {} / {} | {} |",
            r.backend,
            answers.join("<br>"),
            injected.join(", "),
            r.connections_before.len(),
            r.connections_after.len(),
            if same {
                " (the same ids)"
            } else {
                " (**ids differ**)"
            },
            r.tested_audits_added,
            r.tests_answered,
            if same && audits_exact {
                "none"
            } else {
                "**yes**"
            }
        );
    }
    if let Some(why) = skipped {
        println!();
        println!("PostgreSQL not soaked: {why}.");
    }
    println!();
}
