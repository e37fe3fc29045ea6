// The demo admin shell's backend: serves shell/index.html and signs short-lived HS256 host tokens
// for the widget, as a real shell's backend would. Runs on another site than the widget.
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";

export const SHELL_SECRET = "demo-shell-secret-that-is-at-least-32-bytes-long";
export const SHELL_ISSUER = "demo-admin-shell";

const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url");

export function signHostToken(claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const now = Math.floor(Date.now() / 1000);
  const payload = b64url(JSON.stringify({ iss: SHELL_ISSUER, aud: "hris-connect", iat: now, exp: now + 300, jti: randomUUID(), ...claims }));
  const signature = createHmac("sha256", SHELL_SECRET).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export function startShell(host: string): Promise<{ server: Server; port: number }> {
  const page = readFileSync(path.join(__dirname, "shell", "index.html"));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://shell");
    if (url.pathname === "/token") {
      const org = url.searchParams.get("org") ?? "Shell Org";
      const token = signHostToken({
        sub: url.searchParams.get("user") ?? "shell-admin",
        name: url.searchParams.get("name") ?? "Shelly Admin",
        org_id: "shell-" + org.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
        org_name: org,
        locale: url.searchParams.get("locale") ?? "en",
        permissions: (url.searchParams.get("permissions") ?? "manage_integrations").split(",").filter(Boolean),
      });
      // `tamper=1`: a token whose signature does not verify (the widget must refuse it).
      const sent = url.searchParams.get("tamper") ? token.slice(0, -4) + "AAAA" : token;
      res.writeHead(200, { "content-type": "text/plain" }).end(sent);
    } else {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    }
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, port: (server.address() as any).port })));
}
