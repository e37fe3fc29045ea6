// Starts the Merge sandbox (`cargo build -p merge-sandbox`) and the server built by `cargo leptos
// build`, each on a free port, the server with a fresh SQLite database and pointed at the sandbox;
// waits until /readyz answers, and stops both after the suite. The server's metrics listener is on a
// free port too (HRIS_METRICS_URL).
import { ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startShell, SHELL_SECRET, SHELL_ISSUER } from "./shell-server";

const root = path.resolve(__dirname, "..");
const SANDBOX_API_KEY = "sandbox-api-key";

/** Resolves with the first match of `pattern` in the process's stdout. */
function waitForLine(proc: ChildProcess, name: string, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000);
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off("data", onData);
        proc.stdout!.resume();
        resolve(m);
      }
    };
    proc.stdout!.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
}

export default async function globalSetup() {
  if (process.env.HRIS_BASE_URL) return; // an already running server was given
  const dataDir = mkdtempSync(path.join(tmpdir(), "hris-e2e-"));
  // The demo admin shell runs on another site (localhost) than the widget (127.0.0.1); a second
  // copy on 127.0.0.2 is a shell that is NOT allowed to embed the widget.
  const shell = await startShell("127.0.0.1");
  const strangerShell = await startShell("127.0.0.2");
  const shellOrigin = `http://localhost:${shell.port}`;
  // The sandbox is a program of its own: the server binary holds none of it.
  const sandbox = spawn(
    path.join(root, "target/debug/merge-sandbox"),
    ["--addr", "127.0.0.1:0", "--api-key", SANDBOX_API_KEY],
    { cwd: root, env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const [, sandboxURL, apiBase] = await waitForLine(
    sandbox,
    "merge sandbox",
    /Merge sandbox on (http:\/\/[^\s]+) \(API base (http:\/\/[^\s)]+)\)/,
  );
  // The server verifies webhooks with this key; the sandbox signs with it.
  const webhookKey = `whsec_e2e_${randomBytes(24).toString("base64url")}`;
  const server = spawn(path.join(root, "target/debug/server"), [], {
    cwd: root,
    env: {
      ...process.env,
      HRIS_BIND_ADDR: "127.0.0.1:0",
      HRIS_DATA_DIR: dataDir,
      HRIS_ALLOWED_HOST_ORIGINS: shellOrigin,
      HRIS_HOST_TOKEN_SECRET: SHELL_SECRET,
      HRIS_HOST_TOKEN_ISSUER: SHELL_ISSUER,
      MERGE_API_BASE_URL: apiBase,
      MERGE_API_KEY: SANDBOX_API_KEY,
      MERGE_LINK_SCRIPT_URL: `${sandboxURL}/initialize.js`,
      MERGE_WEBHOOK_KEYS: webhookKey,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      HRIS_METRICS_ADDR: "127.0.0.1:0",
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // Both lines are watched from the start: the server prints them one after the other.
  const metricsLine = waitForLine(server, "server metrics", /metrics on (http:\/\/[^\s]+)/);
  const [, baseURL] = await waitForLine(server, "server", /listening on (http:\/\/[^\s]+)/);
  const [, metricsURL] = await metricsLine;
  const hook = await fetch(`${sandboxURL}/sandbox/webhook`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: `${baseURL}/webhooks/merge`, signing_key: webhookKey }),
  });
  if (!hook.ok) throw new Error(`sandbox PUT /webhook: ${hook.status}`);
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${baseURL}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.HRIS_BASE_URL = baseURL;
  process.env.HRIS_SANDBOX_URL = sandboxURL;
  process.env.HRIS_METRICS_URL = metricsURL;
  process.env.HRIS_SHELL_URL = shellOrigin;
  process.env.HRIS_STRANGER_SHELL_URL = `http://127.0.0.2:${strangerShell.port}`;
  process.env.HRIS_DATA_DIR = dataDir;
  // For specs that deliver a webhook of their own (webhook-log.spec.ts), signed as Merge signs.
  process.env.HRIS_WEBHOOK_KEY = webhookKey;
  return async () => {
    server.kill("SIGTERM");
    shell.server.close();
    strangerShell.server.close();
    await new Promise((r) => server.once("exit", r));
    sandbox.kill("SIGTERM");
    await new Promise((r) => sandbox.once("exit", r));
  };
}
