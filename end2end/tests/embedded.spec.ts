// The widget inside the demo admin shell: another site (localhost) frames it (127.0.0.1), hands it a
// signed token by postMessage, and hears its events.
import { test, expect, expectAccessible, sandbox } from "./fixtures";
import type { FrameLocator, Page } from "@playwright/test";

function shellUrl(org: string, extra = "") {
  return `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}${extra}`;
}

async function openShell(page: Page, extra = ""): Promise<{ widget: FrameLocator; org: string }> {
  const org = `Shell ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(shellUrl(org, extra));
  const widget = page.frameLocator('iframe[title="HRIS Integration"]');
  return { widget, org };
}

const events = (page: Page) => page.evaluate(() => (window as any).hostEvents.map((e: any) => e.type) as string[]);
const iframeHeight = (page: Page) =>
  page.locator('iframe[title="HRIS Integration"]').evaluate((el) => el.getBoundingClientRect().height);

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

test("signed in by the shell's token inside a cross-site iframe, the admin connects and tests", async ({ page }) => {
  const { widget } = await openShell(page);
  const toggle = widget.getByRole("switch", { name: "HRIS Integration" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect(widget.getByRole("banner")).toHaveCount(0); // no standalone chrome
  await expect.poll(() => events(page)).toContain("ready");
  const small = await iframeHeight(page);

  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect.poll(() => iframeHeight(page)).toBeGreaterThan(small); // grew with the directory

  await widget.getByRole("listitem").filter({ hasText: "Personio" }).getByRole("button", { name: "Connect", exact: true }).click();
  const dialog = widget.getByRole("dialog", { name: "Connect Personio" });
  await dialog.getByRole("button", { name: "Create name" }).click();
  await dialog.getByRole("button", { name: "Continue on merge.dev" }).click();
  await expect.poll(() => iframeHeight(page)).toBeGreaterThanOrEqual(720); // room for Merge Link
  const link = widget.frameLocator('iframe[title="Connect your HR system"]');
  await link.getByRole("button", { name: "I agree, continue" }).click();
  await link.getByLabel("Password").fill("sandbox-password");
  await link.getByRole("button", { name: "Connect", exact: true }).click();
  await link.getByRole("button", { name: "Done" }).click();
  await expect(widget.getByRole("status")).toHaveText("Personio is connected.");
  await expect.poll(() => events(page)).toContain("created");

  const item = widget.getByRole("listitem").filter({ has: widget.getByRole("heading", { name: "Personio", exact: true }) });
  await item.getByRole("button", { name: "Actions for Personio" }).click();
  await item.getByRole("button", { name: "Test Connection" }).click();
  await expect(widget.getByRole("status")).toContainText("Test Connection succeeded");
  await expect.poll(() => events(page)).toContain("tested");
  const tested = await page.evaluate(() => (window as any).hostEvents.find((e: any) => e.type === "tested").detail);
  expect(tested).toMatchObject({ ok: true, name: "Personio" });

  // Turning the integration off shrinks the widget again.
  const big = await iframeHeight(page);
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect.poll(() => iframeHeight(page)).toBeLessThan(big);
  await expectAccessible(page);
});

test("the shell ignores messages that do not come from the widget", async ({ page }) => {
  await openShell(page);
  await expect.poll(() => events(page)).toContain("ready");
  const before = await iframeHeight(page);
  const count = (await events(page)).length;
  // A message claiming to be the widget, but sent by another window (here: the shell itself).
  await page.evaluate(() => {
    window.postMessage({ source: "hris-connect", type: "resize", detail: { height: 3 } }, "*");
    window.postMessage({ source: "hris-connect", type: "deleted", detail: { name: "forged" } }, "*");
  });
  await page.waitForTimeout(300);
  expect(await iframeHeight(page)).toBe(before);
  expect((await events(page)).length).toBe(count);
});

test("the widget refuses to be framed by a shell that is not configured", async ({ page }) => {
  const org = `Stranger ${Date.now()}`;
  await page.goto(
    `${process.env.HRIS_STRANGER_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}`,
  );
  const frame = page.frameLocator('iframe[title="HRIS Integration"]');
  await page.waitForTimeout(1000);
  await expect(frame.getByRole("heading", { name: "HRIS Integration" })).toHaveCount(0);
  expect(await events(page)).toEqual([]);
});

test("the shell's theme reaches the widget; a page of another origin cannot restyle it", async ({ page }) => {
  const { widget } = await openShell(page, "&theme=dark");
  await expect(widget.locator("html")).toHaveAttribute("data-theme", "dark");
  await expectAccessible(page);

  const plain = await openShell(page);
  await expect.poll(() => events(page)).toContain("ready");
  await page.evaluate((url) => {
    const probe = document.createElement("iframe");
    probe.src = url;
    probe.title = "probe";
    document.body.appendChild(probe);
  }, `${process.env.HRIS_STRANGER_SHELL_URL}/?probe=1`);
  await page.waitForTimeout(800);
  await expect(plain.widget.locator("html")).not.toHaveAttribute("data-theme", "dark");
});
