import { test, expect, signInAs, signInFresh, turnHrisOn, connect, menuAction } from "./fixtures";

// The operator's view: after the flows of the specs before it (files run in name order on one
// worker) and its own, the metrics listener (HRIS_METRICS_ADDR, started by global-setup.ts) shows
// every family the server records, by route template and outcome; the public port has no /metrics.
test("the metrics listener shows requests, Merge calls, webhooks and the pool; the public port does not", async ({
  page,
}) => {
  const metricsURL = process.env.HRIS_METRICS_URL;
  test.skip(!metricsURL, "a running server was given (HRIS_BASE_URL) without HRIS_METRICS_URL");

  // A page and a server function, a Merge call (the HR-system directory), an unsigned webhook.
  await signInAs(page, "Alice Admin");
  const directory = await page.request.post("/api/connections/directory");
  expect(directory.status()).toBe(200);
  const hook = await page.request.post("/webhooks/merge", { data: "{}" });
  expect(hook.status()).toBe(401);
  const onPublicPort = await page.request.get("/metrics");
  expect(onPublicPort.status()).toBe(404);

  const scrape = await page.request.get(metricsURL!);
  expect(scrape.status()).toBe(200);
  expect(scrape.headers()["content-type"]).toContain("text/plain; version=0.0.4");
  const text = await scrape.text();
  for (const [family, kind] of [
    ["hris_http_requests_total", "counter"],
    ["hris_http_requests_duration_seconds", "histogram"],
    ["hris_provider_requests_total", "counter"],
    ["hris_provider_request_duration_seconds", "histogram"],
    ["hris_webhook_deliveries_total", "counter"],
    ["hris_db_pool_connections", "gauge"],
  ]) {
    expect(text, family).toContain(`# TYPE ${family} ${kind}\n`);
    expect(text, family).toContain(`# HELP ${family} `);
  }
  expect(text).toMatch(/^hris_http_requests_total\{method="GET",status="200",endpoint="\/signin"\} [1-9]/m);
  expect(text).toMatch(
    /^hris_http_requests_total\{method="POST",status="200",endpoint="\/api\/connections\/directory"\} [1-9]/m,
  );
  expect(text).toMatch(/^hris_provider_requests_total\{method="GET",endpoint="\/integrations",outcome="ok"\} [1-9]/m);
  expect(text).toMatch(/^hris_webhook_deliveries_total\{event="unknown",outcome="unsigned"\} [1-9]/m);
  expect(text).toMatch(/^hris_db_pool_connections\{state="idle"\} \d/m);
  // Templates only: no session cookie value, no API key.
  const cookies = await page.context().cookies();
  for (const c of cookies) expect(text).not.toContain(c.value);
  expect(text).not.toContain("sandbox-api-key");
});

// The sync engine and the health watch record their families from real work: an admin activates a
// connection, the engine runs its first sync, the watch's next tick (HRIS_SYNC_TICK_SECONDS, 30 s)
// checks it; the gauges of queued and running runs and of held removals are read from the
// database at each scrape.
test("the metrics listener shows sync runs, applied records, run and hold gauges and health checks", async ({ page }) => {
  const metricsURL = process.env.HRIS_METRICS_URL;
  test.skip(!metricsURL, "a running server was given (HRIS_BASE_URL) without HRIS_METRICS_URL");
  test.setTimeout(120_000);
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "HiBob", "HiBob Metrics");
  await menuAction(page, "HiBob Metrics", "Activate");
  await expect(page.getByRole("status")).toHaveText("HiBob Metrics is now the active connection.");

  const scrape = async () => (await page.request.get(metricsURL!)).text();
  const samples = [
    /^hris_sync_runs_total\{outcome="done"\} [1-9]/m,
    /^hris_sync_records_applied_total\{stream="employees"\} [1-9]/m,
    /^hris_sync_runs\{state="queued"\} \d/m,
    /^hris_sync_runs\{state="running"\} \d/m,
    /^hris_sync_held_removals \d/m,
    /^hris_health_checks_total\{outcome="works"\} [1-9]/m,
  ];
  for (const sample of samples) {
    await expect.poll(scrape, { message: String(sample), timeout: 90_000, intervals: [1_000] }).toMatch(sample);
  }
  const text = await scrape();
  for (const [family, kind] of [
    ["hris_sync_runs_total", "counter"],
    ["hris_sync_records_applied_total", "counter"],
    ["hris_sync_runs", "gauge"],
    ["hris_sync_held_removals", "gauge"],
    ["hris_health_checks_total", "counter"],
  ]) {
    expect(text, family).toContain(`# TYPE ${family} ${kind}\n`);
    expect(text, family).toContain(`# HELP ${family} `);
  }
});
