// Shared fixtures: every page a spec visits is scanned with axe (WCAG 2.1 AA) after each navigation
// and at the end of the test; any violation fails the test.
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Browser, type FrameLocator, type Page } from "@playwright/test";

/** Where a flow runs: the page itself, or the widget's iframe inside the admin shell. */
export type Scope = Page | FrameLocator;

export async function expectAccessible(page: Page) {
  await page.waitForLoadState("load");
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
  expect(summary, `axe violations on ${page.url()}`).toEqual([]);
}

export const test = base.extend({
  page: async ({ page }, use) => {
    const goto = page.goto.bind(page);
    page.goto = async (url, options) => {
      const response = await goto(url, options);
      await expectAccessible(page);
      return response;
    };
    await use(page);
    await expectAccessible(page);
  },
});

/** Signs in through the dev sign-in page as the demo user with this display name. */
export async function signInAs(page: Page, name: string) {
  await page.goto("/signin");
  await page.getByRole("button", { name: `Sign in as ${name}` }).click();
  await expect(page).toHaveURL(/\/admin\/integrations\/hris$/);
  await expect(page.getByRole("banner").getByText(name)).toBeVisible();
}

export { expect };

/** Signs in as a demo user inside a fresh demo organization, so a spec starts from an empty slate. */
export async function signInFresh(page: Page, user = "alice"): Promise<string> {
  const organization = `E2E ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  const res = await page.request.post("/api/session/dev_sign_in", { form: { user_id: user, organization } });
  expect(res.ok(), await res.text()).toBeTruthy();
  await page.goto("/admin/integrations/hris");
  await expect(page.getByText(organization).first()).toBeVisible();
  return organization;
}

/** Calls the Merge sandbox's control API (faults, clock, accounts). */
export async function sandbox(method: string, path: string, body?: unknown) {
  const res = await fetch(`${process.env.HRIS_SANDBOX_URL}/sandbox${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export async function turnHrisOn(page: Scope) {
  const toggle = page.getByRole("switch", { name: "HRIS Integration" });
  if ((await toggle.getAttribute("aria-checked")) !== "true") await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(page.getByRole("heading", { name: "Connected HRIS systems", exact: true })).toBeVisible();
}

/** The entry of a connection in a list, by its name. */
export function connectionItem(page: Scope, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name, exact: true }) });
}

/** Opens a connection's ">" menu and picks an entry. */
export async function menuAction(page: Scope, name: string, action: string) {
  const item = connectionItem(page, name);
  await item.getByRole("button", { name: `Actions for ${name}` }).click();
  await item.getByRole("button", { name: action, exact: true }).click();
}

/** The sandbox's Merge Link dialog, in its iframe. */
export function linkFrame(page: Scope) {
  return page.frameLocator('iframe[title="Connect your HR system"]');
}

/** Goes through the sandbox's Merge Link dialog as a person: consent, sign in, Done. */
export async function completeLink(
  page: Scope,
  opts: { relink?: boolean; tenant?: string; password?: string } = {},
) {
  const f = linkFrame(page);
  await expect(
    f.getByRole("heading", { name: opts.relink ? "Update your HR system connection" : "Connect your HR system" }),
  ).toBeVisible();
  await f.getByRole("button", { name: "I agree, continue" }).click();
  if (opts.tenant) await f.getByRole("textbox", { name: "Company domain" }).fill(opts.tenant);
  await f.getByLabel("Password").fill(opts.password ?? "sandbox-password");
  await f.getByRole("button", { name: opts.relink ? "Reconnect" : "Connect", exact: true }).click();
  await expect(f.getByRole("heading", { name: "Connected" })).toBeVisible();
  await f.getByRole("button", { name: "Done" }).click();
  await expect(page.locator('iframe[title="Connect your HR system"]')).toHaveCount(0);
}

// Connect directly, as an admin does it.

/** Connect → name → Create name → Continue on merge.dev; returns with the Link dialog open. */
export async function startConnect(page: Scope, system: string, name?: string) {
  await page
    .getByRole("listitem")
    .filter({ hasText: system })
    .getByRole("button", { name: "Connect", exact: true })
    .click();
  const dialog = page.getByRole("dialog", { name: `Connect ${system}` });
  await expect(dialog.getByLabel("Connection name")).toHaveValue(system);
  if (name !== undefined) await dialog.getByLabel("Connection name").fill(name);
  await dialog.getByRole("button", { name: "Create name" }).click();
  await dialog.getByRole("button", { name: "Continue on merge.dev" }).click();
}

export async function connect(page: Scope, system: string, name: string) {
  await startConnect(page, system, name);
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText(`${name} is connected.`);
  await expect(connectionItem(page, name)).toContainText("Healthy");
}

export async function accountIdOf(page: Scope, name: string) {
  const text = await connectionItem(page, name).getByText("Account ID:").innerText();
  return text.replace("Account ID:", "").trim();
}

// Manual setup: the service desk and the customer (both with script, whatever the project says).

/** A desk agent's page in a browser context of its own, on the console, with `org` chosen. */
export async function deskFor(browser: Browser, org: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: process.env.HRIS_BASE_URL, javaScriptEnabled: true });
  const desk = await context.newPage();
  await desk.goto("/signin");
  await desk.getByRole("button", { name: "Sign in as Dana Desk" }).click();
  await desk.getByRole("link", { name: "Service desk" }).click();
  await expect(desk.getByRole("heading", { level: 1, name: "Service desk" })).toBeVisible();
  await desk.getByLabel("Organization").selectOption({ label: org });
  return desk;
}

export async function issueLink(desk: Page, system?: string): Promise<string> {
  if (system) await desk.getByLabel("HR system").selectOption({ label: system });
  await desk.getByRole("button", { name: "Create magic link" }).click();
  await expect(desk.getByRole("status")).toHaveText("Magic link created. It is valid for 7 days.");
  await expect(desk.getByText(/Issued by Dana Desk on .* UTC\. Expires .* UTC\./)).toBeVisible();
  return desk.getByLabel("Magic link", { exact: true }).inputValue();
}

/** The customer opens the magic link in their own browser and connects. */
export async function customerConnects(browser: Browser, url: string, system: string) {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole("button", { name: "I agree, continue" }).click();
  if (await page.getByRole("heading", { name: "Choose your HR system" }).isVisible()) {
    await page.getByRole("button", { name: system, exact: true }).click();
  }
  await page.getByLabel("Password").fill("sandbox-password");
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Connected" })).toBeVisible();
  await context.close();
}

export async function addConnection(page: Page, name: string, id: string, token: string) {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("ID", { exact: true }).fill(id);
  await page.getByLabel("Token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Add connection" }).click();
}
