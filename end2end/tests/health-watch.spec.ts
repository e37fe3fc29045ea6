// The health watch as the admin and the admin shell meet it. These specs run a server of their own
// whose watch tests every active connection every 3 s (HRIS_HEALTH_INTERVAL_MINUTES=0.05), beside
// the suite's server (whose hourly watch would not notice within a test): when Merge revokes the
// account token the page shows a banner without a reload, the timeline names it, the embedding
// shell hears a `health` event; when the token works again, all of it says so.
import { test as base, expect, signInFresh, turnHrisOn, connect, accountIdOf, menuAction, sandbox, connectionItem } from "./fixtures";
import type { FrameLocator, Page } from "@playwright/test";
import { startServer, type Server } from "../servers";

const test = base.extend<{}, { watched: Server }>({
  watched: [
    async ({}, use) => {
      const server = await startServer({
        sandboxURL: process.env.HRIS_SANDBOX_URL!,
        apiBase: process.env.HRIS_SANDBOX_API_BASE!,
        shellOrigin: process.env.HRIS_SHELL_URL!,
        env: { HRIS_HEALTH_INTERVAL_MINUTES: "0.05", HRIS_SYNC_TICK_SECONDS: "1" },
      });
      await use(server);
      await server.stop();
    },
    { scope: "worker" },
  ],
  baseURL: async ({ watched }, use) => use(watched.baseURL),
});

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

const banners = (scope: Page | FrameLocator, name = "Connections that stopped working") =>
  scope.getByRole("region", { name });
const stopped = (name: string) =>
  new RegExp(`${name} stopped working at \\d{1,2} [A-Z][a-z]{2} \\d{4}, \\d{2}:\\d{2} UTC\\.`);

test("a revoked token turns into a banner and a timeline entry; the repair clears the banner", async ({ page }) => {
  test.setTimeout(120_000);
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Personio", "Personio Germany");
  await menuAction(page, "Personio Germany", "Activate");
  await expect(page.getByRole("status")).toHaveText("Personio Germany is now the active connection.");
  await expect(banners(page)).toHaveCount(0);

  // The customer revokes the account at Merge; nobody touches the page.
  await sandbox("POST", "/faults", { kind: "token_revoked", account_id: await accountIdOf(page, "Personio Germany") });
  await expect(banners(page)).toContainText(stopped("Personio Germany"), { timeout: 60_000 });
  await expect(banners(page)).toContainText("The HR system connection was refused: the access token is no longer valid.");
  // The list says so too, still without a reload, and after one.
  await expect(connectionItem(page, "Personio Germany")).toContainText("Relink needed");
  await page.reload();
  await expect(connectionItem(page, "Personio Germany")).toContainText("Relink needed");
  // The watch's entry; the sync's own refusal may come before or after it.
  const timeline = page.getByRole("region", { name: "Timeline" }).getByRole("listitem");
  await expect(timeline.filter({ hasText: "HRIS Connect: “Personio Germany” stopped working (Relink needed)" })).toHaveCount(1);

  // The same banner in German.
  await page.goto("/admin/integrations/hris?locale=de");
  await expect(banners(page, "Verbindungen, die nicht mehr funktionieren")).toContainText(
    /Personio Germany funktioniert seit \d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2} UTC nicht mehr\./,
  );
  await expect(
    page
      .getByRole("region", { name: "Verlauf" })
      .getByRole("listitem")
      .filter({ hasText: "HRIS Connect: „Personio Germany“ funktioniert nicht mehr (Neu verknüpfen nötig)" }),
  ).toHaveCount(1);

  // Merge accepts the token again: the banner goes by itself, the timeline says it works again.
  await page.goto("/admin/integrations/hris");
  await expect(banners(page)).toBeVisible();
  await sandbox("DELETE", "/faults");
  await expect(banners(page)).toHaveCount(0, { timeout: 60_000 });
  await expect(connectionItem(page, "Personio Germany")).toContainText("Healthy");
  await page.reload();
  await expect(timeline.filter({ hasText: "HRIS Connect: “Personio Germany” works again" })).toHaveCount(1);
  await expect(connectionItem(page, "Personio Germany")).toContainText("Healthy");
});

test("the admin shell hears a health event when a connection stops working and when it works again", async ({ page, watched }) => {
  test.setTimeout(120_000);
  const org = `Shell ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(watched.baseURL)}&org=${encodeURIComponent(org)}`,
  );
  const widget = page.frameLocator('iframe[title="HRIS Integration"]');
  await turnHrisOn(widget);
  await connect(widget, "Personio", "Personio");
  await menuAction(widget, "Personio", "Activate");
  await expect(widget.getByRole("status")).toHaveText("Personio is now the active connection.");
  const health = () =>
    page.evaluate(() => (window as any).hostEvents.filter((e: any) => e.type === "health").map((e: any) => e.detail));

  await sandbox("POST", "/faults", { kind: "token_revoked", account_id: await accountIdOf(widget, "Personio") });
  await expect(banners(widget)).toContainText(stopped("Personio"), { timeout: 60_000 });
  await expect.poll(health).toEqual([
    expect.objectContaining({ ok: false, name: "Personio", message: expect.stringMatching(stopped("Personio")) }),
  ]);

  await sandbox("DELETE", "/faults");
  await expect(banners(widget)).toHaveCount(0, { timeout: 60_000 });
  await expect.poll(health).toEqual([
    expect.objectContaining({ ok: false, name: "Personio" }),
    expect.objectContaining({ ok: true, name: "Personio" }),
  ]);
});
