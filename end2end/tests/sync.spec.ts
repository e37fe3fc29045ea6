// The employee sync in the admin's hands (issue 14), against the suite's server and its real sync
// engine: the sync card with live progress, Sync now (refused while a run is running, with the
// reason), the history, the removals the safety brake holds, the directory's search on a
// 10,000-employee account, the preview before switching the source, and the embedded widget's
// `sync` events to the admin shell.
import {
  test,
  expect,
  signInFresh,
  turnHrisOn,
  connect,
  connectionItem,
  menuAction,
  accountIdOf,
  sandbox,
  startConnect,
  completeLink,
} from "./fixtures";
import type { FrameLocator, Page } from "@playwright/test";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

type Scope = Page | FrameLocator;

// The engine on SQLite sometimes starts a queued run only at apalis's 30 s heartbeat (see the
// report of issue 14): waits for a run to start allow for that.
const START = 45_000;
test.describe.configure({ timeout: 150_000 });

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

const card = (scope: Scope) => scope.getByRole("region", { name: "Employee sync" });
const history = (scope: Scope) => scope.getByRole("region", { name: "Sync history" });
const held = (scope: Scope) => scope.getByRole("region", { name: "Removals waiting for your decision" });
const people = (scope: Scope) => scope.getByRole("region", { name: "Employees", exact: true });

/** Connects Personio as `name` and makes it the active connection; returns its linked account. */
async function activeConnection(scope: Scope, name: string, before?: (account: string) => Promise<void>) {
  await turnHrisOn(scope);
  await connect(scope, "Personio", name);
  const account = await accountIdOf(scope, name);
  if (before) await before(account);
  await menuAction(scope, name, "Activate");
  await expect(scope.getByRole("status")).toHaveText(`${name} is now the active connection.`);
  return account;
}

async function upToDate(scope: Scope, timeout = START) {
  await expect(card(scope).locator(".sync-state")).toHaveText("Up to date", { timeout });
}

/** The cells of the history's newest row that contains `text`, by column name. (The schedule's
 * tick may add a run of its own at any time, so rows are found by what they say.) */
async function runRow(scope: Scope, text: string): Promise<Record<string, string>> {
  const table = history(scope).getByRole("table");
  const row = table.getByRole("row").filter({ hasText: text }).first();
  await expect(row).toBeVisible();
  const headers = await table.getByRole("columnheader").allInnerTexts();
  const cells = await row.getByRole("cell").allInnerTexts();
  return Object.fromEntries(headers.map((h, i) => [h.trim(), cells[i]?.trim() ?? ""]));
}

test("activating runs the sync with live progress; Sync now is refused while it runs; the history counts it", async ({ page }) => {
  await signInFresh(page);
  await expect(card(page)).toHaveCount(0);
  // The employees' second page answers slowly, once: the run is visibly under way meanwhile.
  await activeConnection(page, "Personio Germany", (account) =>
    sandbox("POST", "/faults", { kind: "slow", account_id: account, stream: "employees", page: 2, delay_ms: 6000, count: 1 }),
  );
  await expect(card(page).locator(".sync-state")).toHaveText("Running", { timeout: START });
  const progress = card(page).getByRole("table");
  await expect(progress.getByRole("row").filter({ hasText: "Employees" }).getByRole("cell")).toHaveText(["Employees", "1", "100"]);
  await expect(progress.getByRole("row").filter({ hasText: "Locations" })).toBeVisible();

  // Sync now while it runs: the button says why it is off, and the server refuses too.
  const syncNow = card(page).getByRole("button", { name: "Sync now" });
  await expect(syncNow).toBeDisabled();
  await expect(card(page)).toContainText("A sync is running now. Wait until it has finished.");
  const refused = await page.request.post("/api/sync/now");
  expect(refused.status()).toBe(409);
  expect(await refused.text()).toContain("A sync is running now. Wait until it has finished.");
  await page.screenshot({ path: "test-results/sync-running.png", fullPage: true });

  // Done, without a reload: up to date, and the history has the run with its counts.
  await upToDate(page);
  await expect(card(page)).toContainText(/Last successful sync: \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC/);
  await expect(card(page)).toContainText(/Next scheduled sync: /);
  await expect(syncNow).toBeEnabled();
  const run = await runRow(page, "Activation");
  expect(run["Outcome"]).toBe("Completed");
  expect(Number(run["Added"])).toBeGreaterThan(200);
  expect(run["Deactivated"]).toBe("0");
  expect(run["Duration"]).toMatch(/^\d+ sec$|^\d+ min \d+ sec$/);

  // Sync now: queued, run, a second row (newest first).
  await syncNow.click();
  await expect(page.getByRole("status")).toHaveText("The sync is queued and starts shortly.");
  await expect(history(page).getByRole("row").filter({ hasText: "Sync now" })).toHaveCount(1, { timeout: START });
  await upToDate(page);
  expect((await runRow(page, "Sync now"))["Outcome"]).toBe("Completed");
  await page.screenshot({ path: "test-results/sync-history.png", fullPage: true });
});

test("30 % leavers at once are held, listed, and applied by the admin", async ({ page }) => {
  await signInFresh(page);
  const account = await activeConnection(page, "Personio");
  await upToDate(page);
  await expect(held(page)).toHaveCount(0);

  const left = await sandbox("POST", `/accounts/${account}/leavers`, { action: "terminate", percent: 30 });
  const count = left.remote_ids.length;
  const someone = await sandbox("GET", `/accounts/${account}/employees/${left.remote_ids[0]}`);
  await card(page).getByRole("button", { name: "Sync now" }).click();

  await expect(held(page)).toBeVisible({ timeout: START });
  await expect(held(page)).toContainText(
    `The last sync would remove ${count} people at once, more than the limit of 10 % of the directory, so the safety brake held them back.`,
  );
  await expect(held(page).getByRole("row")).toHaveCount(count + 1);
  const row = held(page).getByRole("row").filter({ hasText: someone.work_email });
  await expect(row).toContainText("Left the company in the HR system");
  await expect(card(page).locator(".sync-state")).toHaveText("Needs attention");
  expect((await runRow(page, "removals held for approval"))["Held"]).toBe(String(count));
  await page.screenshot({ path: "test-results/sync-held.png", fullPage: true });

  await held(page).getByRole("button", { name: "Apply removals" }).click();
  // The schedule's hourly check may run meanwhile and hold the same people again, replacing this
  // hold: the page says so, and the admin reloads and applies what is held now.
  const applied = `Removals applied: ${count} left the directory.`;
  const replaced = "These removals were already decided, or a newer sync replaced them. Reload the page.";
  const status = page.getByRole("status");
  await expect(status).toHaveText(new RegExp(`^(${escapeRegExp(applied)}|${escapeRegExp(replaced)})$`));
  if ((await status.innerText()) === replaced) {
    await page.reload();
    await expect(held(page)).toContainText(`would remove ${count} people at once`, { timeout: START });
    await held(page).getByRole("button", { name: "Apply removals" }).click();
    await expect(status).toHaveText(applied);
  }
  await expect(held(page)).toHaveCount(0);
  await expect(card(page).locator(".sync-state")).toHaveText("Up to date");
  // The person is in the directory as inactive now; the timeline names the decision.
  await page.reload();
  await expect(
    page.getByRole("region", { name: "Timeline" }).getByRole("listitem").filter({ hasText: "Alice Admin applied the held removals of" }),
  ).toHaveCount(1);
  await people(page).getByLabel("Search by name or e-mail").fill(someone.work_email);
  await people(page).getByLabel("Show").selectOption({ label: "Inactive" });
  await people(page).getByRole("button", { name: "Search" }).click();
  await expect(people(page).getByRole("row")).toHaveCount(2);
  await expect(people(page).getByRole("row").nth(1)).toContainText("Inactive");
});

test("the directory search finds a person by e-mail among 10,000", async ({ page }) => {
  test.setTimeout(240_000);
  await signInFresh(page);
  await turnHrisOn(page);
  const started = page.waitForResponse((r) => r.url().endsWith("/api/connections/start"));
  await startConnect(page, "Personio", "Big HR");
  const connectionId = (await (await started).json()).connection_id;
  await sandbox("PUT", `/organizations/hris-connect-${connectionId}`, { employees: 10000, evolve: false });
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText("Big HR is connected.");
  const account = await accountIdOf(page, "Big HR");
  await menuAction(page, "Big HR", "Activate");
  await upToDate(page, 200_000);
  expect(Number((await runRow(page, "Activation"))["Added"])).toBeGreaterThan(9000);

  // Someone still employed (the directory lists active people unless asked otherwise).
  let someone = await sandbox("GET", `/accounts/${account}/employees/E7421`);
  for (let n = 7422; someone.employment_status !== "ACTIVE" || someone.remote_was_deleted; n++) {
    someone = await sandbox("GET", `/accounts/${account}/employees/E${n}`);
  }
  const search = people(page).getByLabel("Search by name or e-mail");
  await search.fill(someone.work_email.toUpperCase());
  await people(page).getByRole("button", { name: "Search" }).click();
  await expect(people(page).getByRole("row")).toHaveCount(2);
  await expect(people(page).getByRole("row").nth(1)).toContainText(someone.work_email);
  await expect(search).toHaveValue(someone.work_email.toUpperCase());

  // Without a search: pages of 50, forward by the last name seen, and back to the first.
  await search.fill("");
  await people(page).getByRole("button", { name: "Search" }).click();
  await expect(people(page).getByRole("row")).toHaveCount(51);
  const firstName = await people(page).getByRole("row").nth(1).getByRole("cell").first().innerText();
  await people(page).getByRole("link", { name: "Next page" }).click();
  await expect(people(page).getByRole("row").nth(1).getByRole("cell").first()).not.toHaveText(firstName);
  await expect(people(page).getByRole("row")).toHaveCount(51);
  await people(page).getByRole("link", { name: "First page" }).click();
  await expect(people(page).getByRole("row").nth(1).getByRole("cell").first()).toHaveText(firstName);
});

test("switching the source shows the preview first; Cancel changes nothing, Confirm switches", async ({ page }) => {
  await signInFresh(page);
  await activeConnection(page, "First");
  await upToDate(page);
  await connect(page, "HiBob", "Second");

  await menuAction(page, "Second", "Activate");
  await page.getByRole("alertdialog", { name: "Activate Second?" }).getByRole("button", { name: "Activate" }).click();
  const preview = page.getByRole("alertdialog", { name: "Switch the employee directory to Second?" });
  await expect(preview).toContainText("Nothing changes until you confirm.");
  await expect(preview).toContainText(/Joining the directory: \d+/);
  await expect(preview).toContainText(/Leaving the directory: \d+/);
  await expect(preview).toContainText(/Matched, keeping their profiles: \d+/);
  await page.screenshot({ path: "test-results/sync-preview.png", fullPage: true });

  await preview.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("status")).toHaveText("Nothing changed: Second was not activated.");
  await expect(preview).toHaveCount(0);
  await page.reload();
  await expect(connectionItem(page, "First").locator(".badge")).toHaveText("Active");
  await expect(connectionItem(page, "Second").locator(".badge")).toHaveText("Inactive");
  await expect(card(page)).toContainText("Source: First");

  await menuAction(page, "Second", "Activate");
  await page.getByRole("alertdialog", { name: "Activate Second?" }).getByRole("button", { name: "Activate" }).click();
  await preview.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Second is now the active connection.");
  await expect(connectionItem(page, "Second").locator(".badge")).toHaveText("Active");
  await expect(card(page)).toContainText("Source: Second");
  await upToDate(page);
});

test("the German page has the sync in German", async ({ page }) => {
  await signInFresh(page);
  await activeConnection(page, "Personio");
  await upToDate(page);
  await page.goto("/admin/integrations/hris?locale=de");
  await expect(page.getByRole("region", { name: "Mitarbeitersynchronisierung" })).toContainText("Aktuell");
  await expect(page.getByRole("region", { name: "Bisherige Synchronisierungen" })).toContainText("Aktivierung");
  await expect(page.getByRole("region", { name: "Mitarbeitende", exact: true }).getByRole("button", { name: "Suchen" })).toBeVisible();
  const { readFileSync } = await import("node:fs");
  const path = await import("node:path");
  const english: string[] = JSON.parse(readFileSync(path.join(__dirname, "english-phrases.json"), "utf8"));
  // The sync's sections (the rest of the page has its own German check, german.spec.ts).
  let text = (
    await Promise.all(
      ["Mitarbeitersynchronisierung", "Bisherige Synchronisierungen", "Mitarbeitende"].map((name) =>
        page.getByRole("region", { name, exact: true }).innerText(),
      ),
    )
  ).join("\n");
  // Names and values (people, teams, places come from the HR system) are not UI text.
  for (const cell of await page.locator("td").allInnerTexts()) text = text.split(cell).join(" ");
  for (const n of ["Personio", "HiBob", "BambooHR", "Workday", "Merge.dev"]) text = text.split(n).join(" ");
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const found = english.filter((p) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(p)}($|[^\\p{L}\\p{N}])`, "u").test(text));
  expect(found).toEqual([]);
  await page.screenshot({ path: "test-results/sync-de.png", fullPage: true });
});

test("the embedded widget shows the sync and the shell hears its events", async ({ page }) => {
  const org = `Shell ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}`,
  );
  const widget = page.frameLocator('iframe[title="HRIS Integration"]');
  await activeConnection(widget, "Personio", (account) =>
    sandbox("POST", "/faults", { kind: "slow", account_id: account, stream: "employees", page: 2, delay_ms: 3000, count: 1 }),
  );
  await upToDate(widget);
  const sync = () =>
    page.evaluate(() => (window as any).hostEvents.filter((e: any) => e.type === "sync").map((e: any) => e.detail));
  // The activation's run: started, then finished with its counts (the schedule may run more later).
  await expect.poll(async () => (await sync()).slice(0, 2)).toEqual([
    expect.objectContaining({ state: "started", name: "Personio" }),
    expect.objectContaining({
      state: "finished",
      name: "Personio",
      ok: true,
      message: "Completed",
      counts: expect.objectContaining({ deactivated: 0, held: 0 }),
    }),
  ]);
  const [started, finished] = await sync();
  expect(finished.counts.added).toBeGreaterThan(200);
  expect(finished.runId).toBe(started.runId);

  // 30 % leave: the shell hears the run held.
  const account = await accountIdOf(widget, "Personio");
  await sandbox("POST", `/accounts/${account}/leavers`, { action: "terminate", percent: 30 });
  await card(widget).getByRole("button", { name: "Sync now" }).click();
  await expect(held(widget)).toBeVisible({ timeout: START });
  await expect.poll(async () => (await sync()).filter((e: any) => e.state === "held").length).toBe(1);
  const events = await sync();
  const heldEvent = events.find((e: any) => e.state === "held");
  expect(heldEvent.counts.held).toBeGreaterThan(0);
  expect(events.filter((e: any) => e.runId === heldEvent.runId).map((e: any) => e.state)).toEqual(["started", "held"]);
  await held(widget).getByRole("button", { name: "Keep everyone" }).click();
  await expect(widget.getByRole("status")).toHaveText("Everyone stays in the directory.");
  await expect(held(widget)).toHaveCount(0);
});
