// Starts the Merge sandbox (`cargo build -p merge-sandbox`) and the server built by `cargo leptos
// build` (servers.ts), each on a free port, the server with a fresh SQLite database and pointed at
// the sandbox; waits until /readyz answers, and stops both after the suite. The server's metrics
// listener is on a free port too (HRIS_METRICS_URL).
import { spawn } from "node:child_process";
import path from "node:path";
import { startShell } from "./shell-server";
import { root, SANDBOX_API_KEY, startServer, waitForLine } from "./servers";

export default async function globalSetup() {
  if (process.env.HRIS_BASE_URL) return; // an already running server was given
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
  const server = await startServer({ sandboxURL, apiBase, shellOrigin });
  // The server verifies webhooks with its key; the sandbox signs with it.
  const hook = await fetch(`${sandboxURL}/sandbox/webhook`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: `${server.baseURL}/webhooks/merge`, signing_key: server.webhookKey }),
  });
  if (!hook.ok) throw new Error(`sandbox PUT /webhook: ${hook.status}`);
  process.env.HRIS_BASE_URL = server.baseURL;
  process.env.HRIS_SANDBOX_URL = sandboxURL;
  process.env.HRIS_SANDBOX_API_BASE = apiBase;
  process.env.HRIS_METRICS_URL = server.metricsURL;
  process.env.HRIS_SHELL_URL = shellOrigin;
  process.env.HRIS_STRANGER_SHELL_URL = `http://127.0.0.2:${strangerShell.port}`;
  process.env.HRIS_DATA_DIR = server.dataDir;
  // For specs that deliver a webhook of their own (webhook-log.spec.ts), signed as Merge signs.
  process.env.HRIS_WEBHOOK_KEY = server.webhookKey;
  return async () => {
    await server.stop();
    shell.server.close();
    strangerShell.server.close();
    sandbox.kill("SIGTERM");
    await new Promise((r) => sandbox.once("exit", r));
  };
}
