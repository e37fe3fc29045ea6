// The service desk's webhook log: what Merge (here: the sandbox) sent, whether its signature held,
// what was done; a failed delivery replayed from the desk, end to end, in English and German.
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, signInFresh, turnHrisOn, connectionItem, completeLink, deskFor } from "./fixtures";
import type { Locator, Page } from "@playwright/test";

const english: string[] = JSON.parse(readFileSync(path.join(__dirname, "english-phrases.json"), "utf8"));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function englishIn(text: string, names: string[]): string[] {
  for (const n of names) text = text.split(n).join(" ");
  return english.filter((p) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(p)}($|[^\\p{L}\\p{N}])`, "u").test(text));
}

/** Posts a webhook as Merge does: the body signed with `key` (HMAC-SHA256, base64url). */
async function deliver(body: string, key = process.env.HRIS_WEBHOOK_KEY!): Promise<number> {
  const signature = createHmac("sha256", key).update(body).digest("base64url");
  const res = await fetch(`${process.env.HRIS_BASE_URL}/webhooks/merge`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-merge-webhook-signature": signature },
    body,
  });
  return res.status;
}

/** `LinkedAccount.linked` for a linked account (and origin) nobody here issued. */
function strangerLinked(account: string): string {
  return JSON.stringify({
    hook: { id: "e2e-hook", event: "LinkedAccount.linked", target: process.env.HRIS_BASE_URL },
    linked_account: { id: account, end_user_origin_id: `origin-${account}` },
    data: { account_token: `token-${account}`, is_relink: false },
  });
}

function log(page: Page, name = "Webhook log"): Locator {
  return page.getByRole("region", { name });
}

function rowsOf(page: Page, account: string, name?: string): Locator {
  return log(page, name).getByRole("row").filter({ hasText: account });
}

test("the desk sees what the sandbox sent, and replays a failed delivery", async ({ page, browser }) => {
  // The admin connects directly: the sandbox sends LinkedAccount.linked for the new account.
  const org = await signInFresh(page);
  await turnHrisOn(page);
  await page.getByRole("listitem").filter({ hasText: "Personio" }).getByRole("button", { name: "Connect", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Connect Personio" });
  await dialog.getByRole("button", { name: "Create name" }).click();
  await dialog.getByRole("button", { name: "Continue on merge.dev" }).click();
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText("Personio is connected.");
  const idText = await connectionItem(page, "Personio").getByText("Account ID:").innerText();
  const account = idText.replace("Account ID:", "").trim();

  // A delivery for an account nobody here knows: it fails, and is answered 200 (no retry).
  const stranger = `acct-e2e-${randomBytes(6).toString("hex")}`;
  expect(await deliver(strangerLinked(stranger))).toBe(200);
  // The same body signed with a key not configured here: rejected.
  expect(await deliver(strangerLinked(stranger), "a-key-nobody-configured")).toBe(401);

  const desk = await deskFor(browser, org);
  await expect(log(desk).getByRole("columnheader", { name: "Signature" })).toBeVisible();
  // (The sandbox also sends LinkedAccount.sync_completed once the first sync ran.)
  const sent = rowsOf(desk, account).filter({ hasText: "LinkedAccount.linked" });
  await expect(sent).toHaveCount(1);
  await expect(sent).toContainText("LinkedAccount.linked");
  await expect(sent).toContainText("Valid");
  await expect(sent).toContainText("Handled");
  await expect(sent.getByRole("button", { name: "Replay" })).toHaveCount(0);

  const rows = rowsOf(desk, stranger);
  await expect(rows).toHaveCount(2);
  const rejected = rows.filter({ hasText: "Rejected" });
  await expect(rejected).toContainText("Unknown key");
  await expect(rejected).toContainText("Cannot be replayed: its signature was not valid.");
  await expect(rejected.getByRole("button", { name: "Replay" })).toHaveCount(0);
  const failed = rows.filter({ hasText: "Failed: unknown linked account" });
  await expect(failed).toContainText("Valid");
  await desk.screenshot({ path: "test-results/webhook-log-en.png", fullPage: true });

  // Replay it: a new entry, linked to the original and naming who replayed it; still unknown.
  await failed.getByRole("button", { name: "Replay" }).click();
  await expect(log(desk).getByRole("status")).toHaveText("Replayed: Failed: unknown linked account");
  await expect(rows).toHaveCount(3);
  const replay = rows.filter({ hasText: "Replay by Dana Desk" });
  await expect(replay).toContainText("Failed: unknown linked account");
  await expect(replay.getByRole("button", { name: "Replay" })).toBeVisible();

  // The organization's timeline, as the desk sees it, has what its admin did.
  await expect(desk.getByRole("region", { name: "Timeline" })).toContainText("Alice Admin connected “Personio”");
  // The replay is audited in the agent's own organization.
  await desk.reload();
  await expect(desk.getByLabel("Organization")).toBeEnabled();
  await desk.getByLabel("Organization").selectOption({ label: "Haiilo Service Desk" });
  await expect(desk.getByRole("region", { name: "Timeline" }).getByRole("listitem").first()).toContainText(
    "Dana Desk replayed a webhook delivery (LinkedAccount.linked): Failed",
  );
  await desk.context().close();
});

test("the webhook log in German, with a replay", async ({ browser }) => {
  const stranger = `acct-e2e-${randomBytes(6).toString("hex")}`;
  expect(await deliver(strangerLinked(stranger))).toBe(200);
  const context = await browser.newContext({ baseURL: process.env.HRIS_BASE_URL });
  const desk = await context.newPage();
  const res = await desk.request.post("/api/session/dev_sign_in", {
    form: { user_id: "dana", organization: `Desk DE ${Date.now()}` },
  });
  expect(res.ok(), await res.text()).toBeTruthy();
  await desk.goto("/desk?locale=de");
  await expect(desk.getByRole("heading", { level: 1, name: "Service-Desk" })).toBeVisible();
  const name = "Webhook-Protokoll";
  await expect(log(desk, name).getByRole("columnheader", { name: "Signatur" })).toBeVisible();
  const rows = rowsOf(desk, stranger, name);
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText("Gültig");
  await expect(rows).toContainText("Fehlgeschlagen: unbekanntes verknüpftes Konto");
  await rows.getByRole("button", { name: "Erneut verarbeiten" }).click();
  await expect(log(desk, name).getByRole("status")).toHaveText(
    "Erneut verarbeitet: Fehlgeschlagen: unbekanntes verknüpftes Konto",
  );
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "Erneut verarbeitet von Dana Desk" })).toHaveCount(1);
  // No English in the log, values (event types, ids, names, times) aside.
  const text = await log(desk, name).innerText();
  const values = text.match(/[A-Za-z]+\.[A-Za-z_]+|acct-[\w-]+|\d{1,2} [A-Z][a-z]{2} \d{4}/g) ?? [];
  expect(englishIn(text, [...values, "Dana Desk"])).toEqual([]);
  await desk.screenshot({ path: "test-results/webhook-log-de.png", fullPage: true });
  await context.close();
});
