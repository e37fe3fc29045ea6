// The browser part of `make bench` (scripts/bench.sh): the payload of the HRIS Integration page and
// navigation → first contentful paint → `hris:hydrated`, beside a static copy of the same HTML.
// Prints Markdown tables. Measures; asserts nothing.
//
//   node scripts/bench-page.js <server base URL> <sandbox base URL> <site root> [loads]
//
// The server must be a release build of the site at <site root> (precompressed .br/.gz beside each
// file), in dev sign-in mode, against the sandbox.
const fs = require("fs");
const path = require("path");
const http = require("http");
const zlib = require("zlib");
const { execFileSync } = require("child_process");

function playwright() {
  for (const name of ["playwright-core", "playwright"]) {
    try {
      return require(path.join(__dirname, "../end2end/node_modules", name));
    } catch (_) {}
  }
  throw new Error("end2end/node_modules has no playwright-core: run scripts/setup.sh");
}

const PAGE = "/admin/integrations/hris";
const STATIC_NAME = "bench-static-copy.html";
// What Chromium sends.
const ACCEPT_ENCODING = "gzip, deflate, br, zstd";
// A new connection per request: the server closes idle keep-alive connections after 15 s, and the
// compression below can take longer than that between two requests.
const agent = new http.Agent({ keepAlive: false });

// One GET as a browser's network stack would send it; the body is counted as it comes (not decoded).
function wire(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { "Accept-Encoding": ACCEPT_ENCODING } }, (res) => {
        let bytes = 0;
        res.on("data", (c) => (bytes += c.length));
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            bytes,
            encoding: res.headers["content-encoding"] || "identity",
            cache: res.headers["cache-control"] || "",
          }),
        );
      })
      .on("error", reject);
  });
}

function files(dir, prefix = "") {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix + e.name;
    if (e.isDirectory()) return files(path.join(dir, e.name), rel + "/");
    // Precompressed siblings are counted as "on the wire"; TypeScript declarations are never fetched.
    if (/\.(br|gz)$/.test(e.name) || /\.d\.[^.]+\.ts$/.test(e.name)) return [];
    return [rel];
  });
}

const gzip9 = (f) => execFileSync("gzip", ["-9", "-c", f], { maxBuffer: 1 << 28 }).length;
const brotli11 = (buf) =>
  zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  }).length;

function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return quantile(s, 0.5);
}
const fmt = (x) => (x == null ? "–" : x.toFixed(1));
const n = (x) => x.toLocaleString("en-US");

async function post(request, url, form) {
  const res = await request.post(url, { form });
  if (!res.ok()) throw new Error(`${url}: ${res.status()} ${await res.text()}`);
  return res.json().catch(() => null);
}

// Signs Alice in to a fresh organization and gives it what an admin's page shows: the integration
// on and three connections, one of them active (the same as hris-bench's server measurements).
async function seed(context, base, sandbox) {
  const r = context.request;
  await post(r, `${base}/api/session/dev_sign_in`, { user_id: "alice", organization: `Bench ${Date.now()}` });
  await post(r, `${base}/api/hris/set_enabled`, { enabled: "true" });
  const systems = [
    ["personio", "Personio"],
    ["bamboohr", "BambooHR"],
    ["hibob", "HiBob"],
  ];
  for (const [i, [slug, name]] of systems.entries()) {
    const session = await post(r, `${base}/api/connections/start`, { slug, name });
    const done = await r.post(`${sandbox}/sandbox/link-tokens/${session.link_token}/complete`, {
      data: { integration: slug },
    });
    if (!done.ok()) throw new Error(`sandbox complete: ${done.status()}`);
    const { public_token } = await done.json();
    await post(r, `${base}/api/connections/finish_link`, {
      id: session.connection_id,
      public_token,
    });
    if (i === 0) await post(r, `${base}/api/connections/activate`, { id: session.connection_id });
  }
}

// The same HTML as the server rendered it, with no script: no <script> elements, no preloads of
// scripts or wasm. Its stylesheet link stays (the same file, from the same server).
function staticCopy(html) {
  return html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "")
    .replace(/<link\b[^>]*rel=["']?(modulepreload|preload)["']?[^>]*>/gi, "");
}

// Why loads did not hydrate (the page's first error), for the note under the table.
const failures = new Map();

// One load in `page`: first contentful paint and, if `mark`, the time of that performance mark,
// both from navigation start (ms). A page that fails (an uncaught error, e.g. a panic while
// hydrating) is not waited for: its mark stays null and its error is noted.
async function load(page, url, mark) {
  let error = null;
  const failed = new Promise((resolve) => page.once("pageerror", (e) => resolve((error = e.message))));
  let consoleError = null;
  page.on("console", (m) => {
    if (m.type() === "error" && !consoleError) consoleError = m.text().split("\n")[0].slice(0, 200);
  });
  await page.goto(url, { waitUntil: "load" });
  const measured = page.evaluate(
    (mark) =>
      new Promise((resolve) => {
        const result = { fcp: null, mark: null };
        const done = () => {
          if (result.fcp != null && (!mark || result.mark != null)) resolve(result);
        };
        new PerformanceObserver((list) => {
          for (const e of list.getEntries())
            if (e.name === "first-contentful-paint") result.fcp = e.startTime;
          done();
        }).observe({ type: "paint", buffered: true });
        if (mark) {
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) if (e.name === mark) result.mark = e.startTime;
            done();
          }).observe({ type: "mark", buffered: true });
        }
        // A page that never paints or never hydrates is reported as such, not waited for forever.
        setTimeout(() => resolve(result), 15000);
      }),
    mark,
  );
  const result = await Promise.race([measured, failed.then(() => null)]);
  if (result) return result;
  const why = consoleError ? `${error} (console: ${consoleError})` : error;
  failures.set(why, (failures.get(why) || 0) + 1);
  const fcp = await page.evaluate(() => {
    const e = performance.getEntriesByName("first-contentful-paint")[0];
    return e ? e.startTime : null;
  });
  return { fcp, mark: null };
}

(async () => {
  const [base, sandbox, siteRoot, loadsArg] = process.argv.slice(2);
  const loads = Number(loadsArg || 15);
  const { chromium } = playwright();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const signedIn = await browser.newContext();
  await seed(signedIn, base, sandbox);
  const storageState = await signedIn.storageState();

  // What the page fetches by itself (until hydrated and the network is quiet): the up-front files.
  const requested = new Set();
  {
    const page = await signedIn.newPage();
    page.on("request", (req) => {
      const u = new URL(req.url());
      if (u.pathname.startsWith("/pkg/")) requested.add(u.pathname.slice("/pkg/".length));
    });
    await load(page, `${base}${PAGE}`, "hris:hydrated");
    await page.waitForLoadState("networkidle");
    await page.close();
  }

  // ---- payload
  const pkg = path.join(siteRoot, "pkg");
  const rows = [];
  for (const rel of files(pkg)) {
    const f = path.join(pkg, rel);
    const buf = fs.readFileSync(f);
    const w = await wire(`${base}/pkg/${rel}`);
    rows.push({ rel, when: requested.has(rel) ? "up-front" : "lazy", raw: buf.length, gz: gzip9(f), br: brotli11(buf), w });
  }
  rows.sort((a, b) => (a.when === b.when ? b.raw - a.raw : a.when === "up-front" ? -1 : 1));
  const sum = (when, k) => rows.filter((r) => r.when === when).reduce((s, r) => s + (k === "w" ? r.w.bytes : r[k]), 0);
  const doc = await signedIn.request.get(`${base}${PAGE}`);
  const html = await doc.text();
  const docWire = await (async () => {
    const cookie = storageState.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    return new Promise((resolve, reject) => {
      http
        .get(`${base}${PAGE}`, { agent, headers: { "Accept-Encoding": ACCEPT_ENCODING, Cookie: cookie } }, (res) => {
          let bytes = 0;
          res.on("data", (c) => (bytes += c.length));
          res.on("end", () => resolve({ bytes, encoding: res.headers["content-encoding"] || "identity" }));
        })
        .on("error", reject);
    });
  })();
  const upGz = sum("up-front", "gz");
  console.log(`## Payload of ${PAGE} (release build)`);
  console.log();
  console.log(
    "Up-front: the files the page fetched by itself in Chromium until it was hydrated and the network " +
      "was quiet; lazy: the others (fetched only by the routes that need them). gzip -9 by the gzip " +
      "program, brotli at quality 11; on the wire: the body the server sent to " +
      `\`Accept-Encoding: ${ACCEPT_ENCODING}\` (its precompressed sibling, see server/src/assets.rs).`,
  );
  console.log();
  console.log("| file | when | raw bytes | gzip -9 | brotli | on the wire | encoding | cache-control |");
  console.log("|---|---|---:|---:|---:|---:|---|---|");
  for (const r of rows)
    console.log(`| ${r.rel} | ${r.when} | ${n(r.raw)} | ${n(r.gz)} | ${n(r.br)} | ${n(r.w.bytes)} | ${r.w.encoding} | ${r.w.cache} |`);
  for (const when of ["up-front", "lazy"])
    console.log(`| **${when} total** | | **${n(sum(when, "raw"))}** | **${n(sum(when, "gz"))}** | **${n(sum(when, "br"))}** | **${n(sum(when, "w"))}** | | |`);
  console.log(`| the page's HTML (signed in; not in the totals) | up-front | ${n(Buffer.byteLength(html))} | | | ${n(docWire.bytes)} | ${docWire.encoding} | |`);
  console.log();
  console.log("| measure | value | target | met? |");
  console.log("|---|---:|---|---|");
  console.log(`| up-front payload, gzip -9 | ${n(upGz)} bytes | ≤ 165,000 bytes | ${upGz <= 165000 ? "yes" : "**no**"} |`);
  console.log();

  // ---- navigation → first contentful paint → hydrated, beside the static copy
  fs.writeFileSync(path.join(siteRoot, STATIC_NAME), staticCopy(html));
  const staticUrl = `${base}/${STATIC_NAME}`;
  const check = await wire(staticUrl);
  if (check.status !== 200) throw new Error(`the static copy is not served: ${check.status}`);
  const results = {};
  for (const cache of ["cold", "warm"]) {
    const app = [];
    const copy = [];
    const warmApp = cache === "warm" ? await browser.newContext({ storageState }) : null;
    const warmCopy = cache === "warm" ? await browser.newContext() : null;
    if (warmApp) {
      // One unmeasured load fills each cache.
      await load(await warmApp.newPage(), `${base}${PAGE}`, "hris:hydrated");
      await load(await warmCopy.newPage(), staticUrl, null);
    }
    // Alternating, so that both see the same machine at the same moments.
    for (let i = 0; i < loads; i++) {
      for (const [list, url, mark, ctx] of [
        [app, `${base}${PAGE}`, "hris:hydrated", warmApp],
        [copy, staticUrl, null, warmCopy],
      ]) {
        const context = ctx || (await browser.newContext(mark ? { storageState } : {}));
        const page = await context.newPage();
        list.push(await load(page, url, mark));
        await page.close();
        if (!ctx) await context.close();
      }
    }
    if (warmApp) {
      await warmApp.close();
      await warmCopy.close();
    }
    results[cache] = { app, copy };
  }
  fs.unlinkSync(path.join(siteRoot, STATIC_NAME));

  console.log(`## Navigation → first contentful paint → \`hris:hydrated\`, ${PAGE}, headless Chromium`);
  console.log();
  console.log(
    `${loads} loads of each, alternating, in one run: the signed-in page (integration on, three ` +
      "connections) and a static copy of the same HTML (saved from the server, scripts and preloads " +
      "removed, served by the same server as a file). Times from navigation start, loopback, no " +
      "throttling. Cold: a new browser context (empty cache) per load; warm: one context, after " +
      "one unmeasured load (hashed files from the cache, the others revalidated).",
  );
  console.log();
  console.log("| cache | page | loads | FCP median ms | FCP p90 ms | hydrated median ms | hydrated p90 ms | not hydrated |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  const summary = [];
  for (const cache of ["cold", "warm"]) {
    const { app, copy } = results[cache];
    const stat = (xs) => {
      const s = xs.filter((x) => x != null).sort((a, b) => a - b);
      return s.length ? [quantile(s, 0.5), quantile(s, 0.9)] : [null, null];
    };
    const [afcp50, afcp90] = stat(app.map((r) => r.fcp));
    const [ah50, ah90] = stat(app.map((r) => r.mark));
    const [sfcp50, sfcp90] = stat(copy.map((r) => r.fcp));
    const missing = app.filter((r) => r.mark == null).length;
    console.log(`| ${cache} | HRIS page | ${app.length} | ${fmt(afcp50)} | ${fmt(afcp90)} | ${fmt(ah50)} | ${fmt(ah90)} | ${missing} |`);
    console.log(`| ${cache} | static copy | ${copy.length} | ${fmt(sfcp50)} | ${fmt(sfcp90)} | | | |`);
    summary.push([cache, ah50, afcp50, sfcp50]);
  }
  console.log();
  for (const [why, count] of failures)
    console.log(`**${count} page load(s) of this run (measured and unmeasured) did not hydrate**; the page reported: \`${why.replace(/`/g, "'")}\``);
  if (failures.size) console.log();
  console.log("| cache | measure | ratio | target | met? |");
  console.log("|---|---|---:|---|---|");
  for (const [cache, ah50, afcp50, sfcp50] of summary) {
    const r = ah50 != null && sfcp50 ? ah50 / sfcp50 : null;
    console.log(`| ${cache} | hydrated median / static copy's FCP median | ${r == null ? "–" : r.toFixed(2)} | ≤ 1.5 | ${r == null ? "not measured (never hydrated)" : r <= 1.5 ? "yes" : "**no**"} |`);
    const f = afcp50 != null && sfcp50 ? afcp50 / sfcp50 : null;
    console.log(`| ${cache} | FCP median / static copy's FCP median | ${f == null ? "–" : f.toFixed(2)} | | |`);
  }
  console.log();
  await browser.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
