// Starts the server built by `cargo leptos build` (target/debug/server) on a free port with a fresh
// SQLite database, pointed at a running Merge sandbox and allowing the demo shell to embed it; used by
// the global setup (the suite's server) and by specs that need a server configured otherwise.
import { ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SHELL_SECRET, SHELL_ISSUER } from "./shell-server";

export const root = path.resolve(__dirname, "..");
export const SANDBOX_API_KEY = "sandbox-api-key";

/** Resolves with the first match of `pattern` in the process's stdout. */
export function waitForLine(proc: ChildProcess, name: string, pattern: RegExp): Promise<RegExpMatchArray> {
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

export interface Server {
  baseURL: string;
  metricsURL: string;
  dataDir: string;
  /** The key Merge's webhooks to this server are signed with. */
  webhookKey: string;
  stop(): Promise<void>;
}

/** Starts a server; `env` adds or overrides configuration variables. */
export async function startServer(opts: {
  sandboxURL: string;
  apiBase: string;
  shellOrigin: string;
  env?: Record<string, string>;
}): Promise<Server> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "hris-e2e-"));
  const webhookKey = `whsec_e2e_${randomBytes(24).toString("base64url")}`;
  const server = spawn(path.join(root, "target/debug/server"), [], {
    cwd: root,
    env: {
      ...process.env,
      HRIS_BIND_ADDR: "127.0.0.1:0",
      HRIS_DATA_DIR: dataDir,
      HRIS_ALLOWED_HOST_ORIGINS: opts.shellOrigin,
      HRIS_HOST_TOKEN_SECRET: SHELL_SECRET,
      HRIS_HOST_TOKEN_ISSUER: SHELL_ISSUER,
      MERGE_API_BASE_URL: opts.apiBase,
      MERGE_API_KEY: SANDBOX_API_KEY,
      MERGE_LINK_SCRIPT_URL: `${opts.sandboxURL}/initialize.js`,
      MERGE_WEBHOOK_KEYS: webhookKey,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      HRIS_METRICS_ADDR: "127.0.0.1:0",
      RUST_LOG: process.env.RUST_LOG ?? "warn",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // Both lines are watched from the start: the server prints them one after the other.
  const metricsLine = waitForLine(server, "server metrics", /metrics on (http:\/\/[^\s]+)/);
  const [, baseURL] = await waitForLine(server, "server", /listening on (http:\/\/[^\s]+)/);
  const [, metricsURL] = await metricsLine;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${baseURL}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseURL,
    metricsURL,
    dataDir,
    webhookKey,
    stop: async () => {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    },
  };
}
