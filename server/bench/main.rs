//! `hris-bench`: the server-side part of `make bench` (scripts/bench.sh), built only with the
//! `bench` feature and never part of the `server` binary.
//!
//! It measures and prints Markdown tables; it asserts nothing:
//! - **render**: the signed-in HRIS Integration page rendered in-process (the real router,
//!   `tower::ServiceExt::oneshot`, no socket) N times in a row: p50 / p99;
//! - **load**: the `connections/list` server function over loopback (the real router served by
//!   `startup::serve_http`) at several concurrencies, beside a plain axum JSON handler returning
//!   the same JSON, served the same way in the same process and run: throughput, p50 / p99;
//! - **cold start**: the release `server` program started on a fresh SQLite (and PostgreSQL)
//!   database until `/readyz` answers 200, migrations included: median of N;
//! - with `--soak <seconds>`, only the **soak** (`soak.rs`, scripts/soak.sh).
//!
//! The database of render and load is SQLite (the embedded default); the Merge sandbox runs as its
//! own program (`--sandbox`).

// Leptos views are deeply nested types; release builds (LTO) compute their layouts here.
#![recursion_limit = "256"]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
    routing::get,
    Json, Router,
};
use tower::ServiceExt;

use server::{config::Config, startup};

mod soak;

/// What to measure and with what (`hris-bench --help`).
#[derive(Debug)]
struct Args {
    /// Base URL of a running merge-sandbox (e.g. http://127.0.0.1:4010).
    sandbox: String,
    /// The built site (release, with the wasm the page links to).
    site_root: String,
    /// The release server program for the cold starts.
    server_exe: PathBuf,
    /// PostgreSQL server for the cold starts on PostgreSQL (a fresh database each start).
    postgres: Option<String>,
    renders: usize,
    seconds: u64,
    concurrency: Vec<usize>,
    starts: usize,
    /// Run the soak instead (`--soak <seconds per backend>`).
    soak: Option<u64>,
    /// Admins of the soak, each in an organization of its own.
    admins: usize,
}

impl Args {
    fn parse() -> Args {
        use clap::{value_parser, Arg, Command};
        let m = Command::new("hris-bench")
            .about("Server benchmarks of HRIS Connect (make bench): prints Markdown tables")
            .arg(Arg::new("sandbox").long("sandbox").required(true)
                .help("Base URL of a running merge-sandbox, e.g. http://127.0.0.1:4010"))
            .arg(Arg::new("site-root").long("site-root").default_value("target/site")
                .help("The built release site"))
            .arg(Arg::new("server-exe").long("server-exe").default_value("target/release/server")
                .help("The release server program for the cold starts"))
            .arg(Arg::new("postgres").long("postgres").env("TEST_DATABASE_URL")
                .help("PostgreSQL server for the cold starts on PostgreSQL (left out when unreachable)"))
            .arg(Arg::new("renders").long("renders").default_value("1000")
                .value_parser(value_parser!(usize)).help("Page renders"))
            .arg(Arg::new("seconds").long("seconds").default_value("10")
                .value_parser(value_parser!(u64)).help("Seconds of load per concurrency and handler"))
            .arg(Arg::new("concurrency").long("concurrency").default_value("1,16,64")
                .value_delimiter(',').value_parser(value_parser!(usize)).help("Concurrencies of the load runs"))
            .arg(Arg::new("starts").long("starts").default_value("5")
                .value_parser(value_parser!(usize)).help("Cold starts per database"))
            .arg(Arg::new("soak").long("soak").value_parser(value_parser!(u64))
                .help("Only the soak: seconds of load per backend (scripts/soak.sh)"))
            .arg(Arg::new("admins").long("admins").default_value("64")
                .value_parser(value_parser!(usize)).help("Concurrent admins of the soak"))
            .get_matches();
        Args {
            sandbox: m.get_one::<String>("sandbox").cloned().unwrap_or_default(),
            site_root: m
                .get_one::<String>("site-root")
                .cloned()
                .unwrap_or_default(),
            server_exe: m
                .get_one::<String>("server-exe")
                .map(PathBuf::from)
                .unwrap_or_default(),
            postgres: m.get_one::<String>("postgres").cloned(),
            renders: *m.get_one("renders").unwrap_or(&1000),
            seconds: *m.get_one("seconds").unwrap_or(&10),
            concurrency: m
                .get_many::<usize>("concurrency")
                .map(|v| v.copied().collect())
                .unwrap_or_default(),
            starts: *m.get_one("starts").unwrap_or(&5),
            soak: m.get_one("soak").copied(),
            admins: *m.get_one("admins").unwrap_or(&64),
        }
    }
}

const PAGE: &str = "/admin/integrations/hris";
const LIST: &str = "/api/connections/list";
const API_KEY: &str = "sandbox-api-key";

/// Latencies in microseconds, every one kept (a 10 s run holds at most a few hundred thousand):
/// quantiles are exact.
#[derive(Default)]
struct Samples(Vec<u64>);

impl Samples {
    fn record(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }
    fn add(&mut self, other: Samples) {
        self.0.extend(other.0);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    /// The value at quantile `q` (nearest rank), in microseconds; `sort` first.
    fn quantile(&self, q: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }
    fn sort(&mut self) {
        self.0.sort_unstable();
    }
    fn max(&self) -> u64 {
        self.0.iter().copied().max().unwrap_or(0)
    }
    fn mean(&self) -> f64 {
        self.0.iter().sum::<u64>() as f64 / self.0.len().max(1) as f64
    }
}

fn histogram() -> Samples {
    Samples::default()
}

fn ms(h: &Samples, q: f64) -> String {
    format!("{:.2}", h.quantile(q) as f64 / 1000.0)
}

fn met(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // As in production (`startup::init_logging`'s filter), written nowhere, so the tables stay
    // readable while the log filter costs what it costs.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,sqlx=warn,tower_http=info",
        ))
        .with_writer(std::io::sink)
        .init();

    if let Some(seconds) = args.soak {
        soak::run(&args, Duration::from_secs(seconds)).await;
        return;
    }
    let data = tempdir("hris-bench");
    let env = Env::start(&args, &data, None).await;
    render(&env, args.renders).await;
    load(&env, &args).await;
    env.db_close().await;
    let _ = std::fs::remove_dir_all(&data);
    cold_start(&args).await;
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The app over SQLite in a temp dir, against the sandbox, with a signed-in admin whose
/// organization has the integration on and three connections (one active).
struct Env {
    state: app::state::AppState,
    router: Router,
    cookie: String,
}

impl Env {
    /// The app on `database_url` (SQLite in `data` when `None`), with the bench's admin signed in
    /// and three connections linked, the first active.
    async fn start(args: &Args, data: &std::path::Path, database_url: Option<&str>) -> Env {
        let sandbox = args.sandbox.trim_end_matches('/');
        let mut vars: HashMap<&str, String> = [
            ("HRIS_DATA_DIR", data.display().to_string()),
            ("HRIS_BIND_ADDR", "127.0.0.1:0".into()),
            ("MERGE_API_BASE_URL", format!("{sandbox}/api")),
            ("MERGE_API_KEY", API_KEY.into()),
            ("MERGE_LINK_SCRIPT_URL", format!("{sandbox}/initialize.js")),
            ("LEPTOS_SITE_ROOT", args.site_root.clone()),
        ]
        .into();
        if let Some(url) = database_url {
            vars.insert("DATABASE_URL", url.to_string());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("bench configuration");
        let prepared = startup::prepare(&config).await.expect("server start");
        drop(prepared.listener);
        let state = prepared.state;
        let router = server::router::app(state.clone());
        let mut env = Env {
            state,
            router,
            cookie: String::new(),
        };
        env.cookie = env.sign_in("Bench").await;
        for (i, (slug, name)) in [
            ("personio", "Personio"),
            ("bamboohr", "BambooHR"),
            ("hibob", "HiBob"),
        ]
        .into_iter()
        .enumerate()
        {
            let id = env.link(&env.cookie, sandbox, slug, name).await;
            if i == 0 {
                env.ok::<serde_json::Value>(
                    &env.cookie,
                    Method::POST,
                    "/api/connections/activate",
                    &format!("id={id}"),
                )
                .await;
            }
        }
        env
    }

    /// An admin signed in to a demo organization of its own, with the integration on: the cookie.
    async fn sign_in(&self, organization: &str) -> String {
        let res = self
            .call_as(
                "",
                Method::POST,
                "/api/session/dev_sign_in",
                &format!("user_id=alice&organization={organization}"),
            )
            .await;
        let cookie = res
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("dev sign-in sets a cookie")
            .to_string();
        self.ok::<serde_json::Value>(
            &cookie,
            Method::POST,
            "/api/hris/set_enabled",
            "enabled=true",
        )
        .await;
        cookie
    }

    /// Connects `slug` as the admin of `cookie` does (start, Merge Link in the sandbox, finish):
    /// the new connection's id.
    async fn link(&self, cookie: &str, sandbox: &str, slug: &str, name: &str) -> String {
        let session: serde_json::Value = self
            .ok(
                cookie,
                Method::POST,
                "/api/connections/start",
                &format!("slug={slug}&name={name}"),
            )
            .await;
        let (id, link_token) = (
            session["connection_id"].as_str().expect("connection id"),
            session["link_token"].as_str().expect("link token"),
        );
        let done: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{sandbox}/sandbox/link-tokens/{link_token}/complete"
            ))
            .json(&serde_json::json!({ "integration": slug }))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("sandbox completes the link")
            .json()
            .await
            .expect("sandbox answer");
        let public = done["public_token"].as_str().expect("public token");
        self.ok::<serde_json::Value>(
            cookie,
            Method::POST,
            "/api/connections/finish_link",
            &format!("id={id}&public_token={public}"),
        )
        .await;
        id.to_string()
    }

    async fn call(&self, method: Method, path: &str, form: &str) -> Response {
        self.call_as(&self.cookie, method, path, form).await
    }

    async fn call_as(&self, cookie: &str, method: Method, path: &str, form: &str) -> Response {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        if method == Method::POST {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(form.to_string())).expect("request"))
            .await
            .expect("the router is infallible");
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, 16 << 20)
            .await
            .expect("response body");
        Response {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    /// A call that must succeed (the setup cannot go on otherwise), its JSON answer.
    async fn ok<T: serde::de::DeserializeOwned>(
        &self,
        cookie: &str,
        method: Method,
        path: &str,
        form: &str,
    ) -> T {
        let res = self.call_as(cookie, method, path, form).await;
        if !res.status.is_success() {
            panic!(
                "{path}: {} {}",
                res.status,
                String::from_utf8_lossy(&res.body)
            );
        }
        serde_json::from_slice(&res.body).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    async fn db_close(&self) {
        self.state.db.close().await;
    }
}

struct Response {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

async fn render(env: &Env, renders: usize) {
    let first = env.call(Method::GET, PAGE, "").await;
    let page_bytes = first.body.len();
    let mut h = histogram();
    let mut failed = 0usize;
    // A few renders first, so that the directory cache and the pool are warm as in a running server.
    for _ in 0..20 {
        env.call(Method::GET, PAGE, "").await;
    }
    for _ in 0..renders {
        let t = Instant::now();
        let res = env.call(Method::GET, PAGE, "").await;
        h.record(t.elapsed());
        if res.status != StatusCode::OK {
            failed += 1;
        }
    }
    h.sort();
    println!("## Server rendering of {PAGE} (in-process)");
    println!();
    println!(
        "The real router with every layer, driven by `tower::ServiceExt::oneshot` (no socket), one \
         render after another, signed in, integration on, three connections; SQLite. The time \
         includes reading the whole streamed body ({page_bytes} bytes of HTML)."
    );
    println!();
    println!("| renders | failed | p50 ms | p99 ms | max ms | mean ms |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {failed} | {} | {} | {:.2} | {:.2} |",
        h.len(),
        ms(&h, 0.5),
        ms(&h, 0.99),
        h.max() as f64 / 1000.0,
        h.mean() / 1000.0
    );
    println!();
}

struct LoadResult {
    hist: Samples,
    errors: u64,
    elapsed: Duration,
}

impl LoadResult {
    fn per_second(&self) -> f64 {
        self.hist.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `concurrency` clients, each sending one request after another for `run`; every answer is read
/// to its end. Errors (a status other than 200, a failed request) are counted, not timed.
async fn hammer(
    client: &reqwest::Client,
    request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Clone + Send + 'static,
    concurrency: usize,
    run: Duration,
) -> LoadResult {
    let start = Instant::now();
    let deadline = start + run;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, request) = (client.clone(), request.clone());
            tokio::spawn(async move {
                let mut hist = histogram();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let ok = match request(&client).send().await {
                        Ok(res) => res.status() == StatusCode::OK && res.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if ok {
                        hist.record(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (hist, errors)
            })
        })
        .collect();
    let mut hist = histogram();
    let mut errors = 0;
    for task in tasks {
        let (h, e) = task.await.expect("load task");
        hist.add(h);
        errors += e;
    }
    hist.sort();
    LoadResult {
        hist,
        errors,
        elapsed: start.elapsed(),
    }
}

async fn serve(router: Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(startup::serve_http(
        listener,
        router,
        startup::ConnectionLimits::default(),
        async {
            let _ = stopped.await;
        },
    ));
    (base, stop)
}

async fn load(env: &Env, args: &Args) {
    // The plain handler answers with the very JSON the server function answers.
    let answer = env.call(Method::POST, LIST, "").await;
    assert_eq!(answer.status, StatusCode::OK, "{LIST} answers");
    let json: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON list");
    let plain = Router::new().route(
        "/plain",
        get(move || {
            let json = json.clone();
            async move { Json(json) }
        }),
    );
    let (app_base, stop_app) = serve(env.router.clone()).await;
    let (plain_base, stop_plain) = serve(plain).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let cookie = env.cookie.clone();
    let list_url = format!("{app_base}{LIST}");
    let server_fn = move |c: &reqwest::Client| {
        c.post(&list_url)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("")
    };
    let plain_url = format!("{plain_base}/plain");
    let plain_fn = move |c: &reqwest::Client| c.get(&plain_url);
    let run = Duration::from_secs(args.seconds);
    let warm = Duration::from_secs(1);
    let mut rows = Vec::new();
    for &c in &args.concurrency {
        // Unmeasured first second of each: connections opened, caches warm.
        hammer(&client, server_fn.clone(), c, warm).await;
        let sf = hammer(&client, server_fn.clone(), c, run).await;
        hammer(&client, plain_fn.clone(), c, warm).await;
        let pl = hammer(&client, plain_fn.clone(), c, run).await;
        rows.push((c, sf, pl));
    }
    let _ = stop_app.send(());
    let _ = stop_plain.send(());

    println!("## `connections/list` server function vs a plain axum JSON handler (loopback)");
    println!();
    println!(
        "Both served over 127.0.0.1 by `startup::serve_http` (HTTP/1.1, keep-alive) in this process; \
         the load comes from the same process (tokio + reqwest, one connection per client, each \
         client sends its next request when the answer is read; every latency kept, exact quantiles). The \
         server function runs every layer (session, permission, CSP, limits) and reads SQLite; the \
         plain handler returns the same {} bytes of JSON with no layer. {}s per run after 1 s of \
         warm-up; client and server share the machine's cores.",
        answer.body.len(),
        args.seconds
    );
    println!();
    println!("| concurrency | handler | requests | errors | req/s | p50 ms | p99 ms | throughput vs plain | target | met? | p99 target | met? |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---|");
    for (c, sf, pl) in &rows {
        let ratio = sf.per_second() / pl.per_second();
        let p99 = sf.hist.quantile(0.99) as f64 / 1000.0;
        let (p99_target, p99_met) = if *c == 64 {
            ("≤ 10 ms", met(p99 <= 10.0))
        } else {
            ("", "")
        };
        println!(
            "| {c} | server fn | {} | {} | {:.0} | {} | {} | {:.0} % | ≥ 50 % | {} | {p99_target} | {p99_met} |",
            sf.hist.len(),
            sf.errors,
            sf.per_second(),
            ms(&sf.hist, 0.5),
            ms(&sf.hist, 0.99),
            ratio * 100.0,
            met(ratio >= 0.5),
        );
        println!(
            "| {c} | plain axum | {} | {} | {:.0} | {} | {} | | | | | |",
            pl.hist.len(),
            pl.errors,
            pl.per_second(),
            ms(&pl.hist, 0.5),
            ms(&pl.hist, 0.99),
        );
    }
    println!();
}

/// One start of the release server on a fresh database: from spawning the process to the first
/// 200 of `/readyz`.
async fn one_start(args: &Args, database_url: Option<&str>) -> Result<Duration, String> {
    let data = tempdir("hris-bench-cold");
    let sandbox = args.sandbox.trim_end_matches('/');
    let mut cmd = std::process::Command::new(&args.server_exe);
    cmd.env("HRIS_DATA_DIR", &data)
        .env("HRIS_BIND_ADDR", "127.0.0.1:0")
        .env("MERGE_API_BASE_URL", format!("{sandbox}/api"))
        .env("MERGE_API_KEY", API_KEY)
        .env("MERGE_LINK_SCRIPT_URL", format!("{sandbox}/initialize.js"))
        .env("LEPTOS_SITE_ROOT", &args.site_root)
        .env("RUST_LOG", "info")
        .env_remove("HRIS_PUBLIC_URL")
        .env_remove("HRIS_MODE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{}: {e}", args.server_exe.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    // Its output is read to the end (so that it never blocks on a full pipe); the address line is
    // passed on.
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel::<String>();
    std::thread::spawn(move || {
        let mut addr_tx = Some(addr_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if let Some(tx) = addr_tx.take() {
                    let _ = tx.send(addr);
                }
            }
        }
    });
    let result = async {
        let addr = tokio::time::timeout(Duration::from_secs(60), addr_rx)
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or("the server printed no `listening on` line")?;
        let ready = format!("{addr}/readyz");
        loop {
            if let Ok(res) = client.get(&ready).send().await {
                if res.status() == StatusCode::OK {
                    return Ok(t0.elapsed());
                }
            }
            if t0.elapsed() > Duration::from_secs(60) {
                return Err("/readyz did not answer 200 within 60 s".to_string());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}

async fn postgres_admin(url: &str) -> Result<sqlx::AnyConnection, String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    tokio::time::timeout(Duration::from_secs(5), sqlx::AnyConnection::connect(url))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())
}

async fn cold_start(args: &Args) {
    let mut rows: Vec<(String, Result<Vec<Duration>, String>)> = Vec::new();
    let mut sqlite = Vec::new();
    let mut failure = None;
    for _ in 0..args.starts {
        match one_start(args, None).await {
            Ok(d) => sqlite.push(d),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    rows.push(("SQLite (new file)".into(), failure.map_or(Ok(sqlite), Err)));
    let pg = match &args.postgres {
        None => Err("no PostgreSQL given (TEST_DATABASE_URL)".to_string()),
        Some(admin) => match postgres_admin(admin).await {
            Err(e) => Err(format!("PostgreSQL not reachable: {e}")),
            Ok(mut conn) => {
                let mut times = Vec::new();
                let mut failure = None;
                for _ in 0..args.starts {
                    let name = format!("hris_bench_{}", uuid::Uuid::new_v4().simple());
                    let created =
                        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                            .execute(&mut conn)
                            .await;
                    if let Err(e) = created {
                        failure = Some(format!("cannot create a database: {e}"));
                        break;
                    }
                    let url = app::storage::with_database(admin, &name);
                    let started = one_start(args, Some(&url)).await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    match started {
                        Ok(d) => times.push(d),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                failure.map_or(Ok(times), Err)
            }
        },
    };
    rows.push(("PostgreSQL (new database)".into(), pg));

    println!("## Cold start to `/readyz` (release `server`, migrations on a fresh database)");
    println!();
    println!(
        "From spawning `{}` to the first 200 of `GET /readyz` (polled every millisecond once the \
         server prints its address): configuration, dev keys generated in a new data directory, \
         database opened, every migration run, router built.",
        args.server_exe.display()
    );
    println!();
    println!("| database | starts | min ms | median ms | max ms | target | met? |");
    println!("|---|---:|---:|---:|---:|---|---|");
    for (name, times) in rows {
        match times {
            Ok(mut t) if !t.is_empty() => {
                t.sort();
                let f = |d: Duration| d.as_secs_f64() * 1000.0;
                let median = f(t[t.len() / 2]);
                println!(
                    "| {name} | {} | {:.1} | {median:.1} | {:.1} | ≤ 300 ms | {} |",
                    t.len(),
                    f(t[0]),
                    f(t[t.len() - 1]),
                    met(median <= 300.0)
                );
            }
            Ok(_) => println!("| {name} | 0 | | | | ≤ 300 ms | not measured |"),
            Err(e) => println!("| {name} | 0 | | | | ≤ 300 ms | not measured: {e} |"),
        }
    }
    println!();
}
