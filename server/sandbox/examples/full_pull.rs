//! Measures (asserts nothing) a full pull of a large organization from the sandbox over HTTP, as
//! the employee sync does it: `employees` at `page_size=100` with `include_deleted_data=true` and
//! `expand=employments`, then a 1 % incremental pull with `modified_after`.
//!
//! `cargo run --release -p merge-sandbox --example full_pull -- [employees, default 100000]`
//! prints a table and the machine.

use std::time::Instant;

use merge_sandbox::{spawn, SandboxConfig};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sb = spawn(SandboxConfig::default(), listener).await.unwrap();
    let base = format!("http://{}", sb.addr);
    let http = reqwest::Client::new();
    let key = "sandbox-api-key";
    http.put(format!("{base}/sandbox/organizations/bench"))
        .json(&json!({"employees": n, "evolve": false}))
        .send()
        .await
        .unwrap();
    let lt: Value = http
        .post(format!("{base}/api/hris/v1/link-token"))
        .bearer_auth(key)
        .json(
            &json!({"end_user_email_address": "a@b.example", "end_user_organization_name": "bench",
                      "end_user_origin_id": "bench", "categories": ["hris"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let done: Value = http
        .post(format!(
            "{base}/sandbox/link-tokens/{}/complete",
            lt["link_token"].as_str().unwrap()
        ))
        .json(&json!({"integration": "personio"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ex: Value = http
        .get(format!(
            "{base}/api/hris/v1/account-token/{}",
            done["public_token"].as_str().unwrap()
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = ex["account_token"].as_str().unwrap().to_string();
    let account = done["linked_account_id"].as_str().unwrap().to_string();

    let pull = |query: String| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let started = Instant::now();
            let (mut records, mut requests, mut bytes, mut slowest) =
                (0usize, 0usize, 0usize, 0f64);
            let mut cursor: Option<String> = None;
            loop {
                let c = cursor
                    .as_deref()
                    .map_or(String::new(), |c| format!("&cursor={c}"));
                let t = Instant::now();
                let body = http
                    .get(format!("{base}/api/hris/v1/employees?page_size=100&include_deleted_data=true&expand=employments{query}{c}"))
                    .bearer_auth(key)
                    .header("X-Account-Token", &token)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                slowest = f64::max(slowest, t.elapsed().as_secs_f64() * 1000.0);
                let page: Value = serde_json::from_slice(&body).unwrap();
                requests += 1;
                bytes += body.len();
                records += page["results"].as_array().unwrap().len();
                match page["next"].as_str() {
                    Some(n) => cursor = Some(n.to_string()),
                    None => break,
                }
            }
            (
                records,
                requests,
                bytes,
                started.elapsed().as_secs_f64(),
                slowest,
            )
        }
    };
    let full = pull(String::new()).await;
    let clock: Value = http
        .get(format!("{base}/sandbox/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mark = clock["now"].as_str().unwrap().replace('+', "%2B");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    http.post(format!("{base}/sandbox/accounts/{account}/leavers"))
        .json(&json!({"action": "terminate", "percent": 1}))
        .send()
        .await
        .unwrap();
    let inc = pull(format!("&modified_after={mark}")).await;

    println!("| pull | records | requests | MB | seconds | records/s | slowest page ms |");
    println!("|---|---|---|---|---|---|---|");
    for (name, (records, requests, bytes, secs, slowest)) in
        [("full", full), ("1 % incremental", inc)]
    {
        println!(
            "| {name} | {records} | {requests} | {:.1} | {secs:.2} | {:.0} | {slowest:.1} |",
            bytes as f64 / 1e6,
            records as f64 / secs
        );
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "\nmachine: {cpu}, {} logical CPUs, {} build, client and sandbox in one process",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    sb.stop();
}
