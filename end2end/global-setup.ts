// Starts the server built by `cargo leptos build` on a free port, with a fresh SQLite database and
// its own Merge sandbox, waits until /readyz answers, and stops it after the suite.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startShell, SHELL_SECRET, SHELL_ISSUER } from "./shell-server";

const root = path.resolve(__dirname, "..");

export default async function globalSetup() {
  if (process.env.HRIS_BASE_URL) return; // an already running server was given
  const dataDir = mkdtempSync(path.join(tmpdir(), "hris-e2e-"));
  // The demo admin shell runs on another site (localhost) than the widget (127.0.0.1); a second
  // copy on 127.0.0.2 is a shell that is NOT allowed to embed the widget.
  const shell = await startShell("127.0.0.1");
  const strangerShell = await startShell("127.0.0.2");
  const shellOrigin = `http://localhost:${shell.port}`;
  const server = spawn(path.join(root, "target/debug/server"), [], {
    cwd: root,
    env: {
      ...process.env,
      HRIS_BIND_ADDR: "127.0.0.1:0",
      HRIS_SANDBOX_ADDR: "127.0.0.1:0",
      HRIS_DATA_DIR: dataDir,
      HRIS_ALLOWED_HOST_ORIGINS: shellOrigin,
      HRIS_HOST_TOKEN_SECRET: SHELL_SECRET,
      HRIS_HOST_TOKEN_ISSUER: SHELL_ISSUER,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let sandboxURL = "";
  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start within 60 s")), 60_000);
    let out = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const s = out.match(/merge sandbox on (http:\/\/[^\s]+)/);
      if (s) sandboxURL = s[1];
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  server.stdout!.resume();
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${baseURL}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.HRIS_BASE_URL = baseURL;
  process.env.HRIS_SANDBOX_URL = sandboxURL;
  process.env.HRIS_SHELL_URL = shellOrigin;
  process.env.HRIS_STRANGER_SHELL_URL = `http://127.0.0.2:${strangerShell.port}`;
  process.env.HRIS_DATA_DIR = dataDir;
  return async () => {
    server.kill("SIGTERM");
    shell.server.close();
    strangerShell.server.close();
    await new Promise((r) => server.once("exit", r));
  };
}
