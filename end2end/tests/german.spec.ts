// The widget in German: the demo shell mounts it with `locale: "de"` (and signs a token with
// `locale: "de"`). No English string of the UI may show: the list is the English texts of
// app/src/i18n/en.rs (english-phrases.json, kept current by a Rust test), values cut out.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, expectAccessible, signInFresh } from "./fixtures";
import type { FrameLocator, Page } from "@playwright/test";

const english: string[] = JSON.parse(readFileSync(path.join(__dirname, "english-phrases.json"), "utf8"));

async function openGermanShell(page: Page): Promise<{ widget: FrameLocator; org: string }> {
  const org = `Schale ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}&locale=de`,
  );
  return { widget: page.frameLocator('iframe[title="HRIS Integration"]'), org };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The English UI phrases found in the widget's visible text, proper names and values removed. */
async function englishIn(widget: FrameLocator, names: string[]): Promise<string[]> {
  let text = await widget.locator("body").innerText();
  for (const n of names) text = text.split(n).join(" ");
  // Whole words only: "On" must not match inside "Personio".
  return english.filter((phrase) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(phrase)}($|[^\\p{L}\\p{N}])`, "u").test(text));
}

test("the widget speaks German: no English string on the page", async ({ page }) => {
  const { widget, org } = await openGermanShell(page);
  const names = ["Personio", "BambooHR", "Workday", "HiBob", "Merge.dev", org, "Shelly Admin"];
  await expect(widget.locator("html")).toHaveAttribute("lang", "de");
  const toggle = widget.getByRole("switch", { name: "HRIS-Integration" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect(widget.getByText("Aus", { exact: true })).toBeVisible();
  expect(await englishIn(widget, names)).toEqual([]);

  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(widget.getByRole("heading", { name: "Verbundene HRIS-Systeme", exact: true })).toBeVisible();
  await expect(widget.getByText("Noch ist kein HR-System verbunden.", { exact: true })).toBeVisible();
  expect(await englishIn(widget, names)).toEqual([]);

  // The connect dialog, with a name error composed by the server in German.
  await widget.getByRole("listitem").filter({ hasText: "Personio" }).getByRole("button", { name: "Verbinden", exact: true }).click();
  const dialog = widget.getByRole("dialog", { name: "Personio verbinden" });
  await dialog.getByLabel("Name der Verbindung").fill("   ");
  await dialog.getByRole("button", { name: "Namen festlegen" }).click();
  await expect(dialog.getByText("Geben Sie einen Namen für die Verbindung ein.")).toBeVisible();
  expect(await englishIn(widget, names)).toEqual([]);

  await dialog.getByLabel("Name der Verbindung").fill("Personio");
  await dialog.getByRole("button", { name: "Namen festlegen" }).click();
  await expect(dialog.getByRole("button", { name: "Weiter zu merge.dev" })).toBeEnabled();
  expect(await englishIn(widget, names)).toEqual([]);
  await expectAccessible(page);

  // Cancelled: the unfinished connection is listed, in German.
  await dialog.getByRole("button", { name: "Abbrechen" }).click();
  await expect(widget.getByText("Einrichtung nicht abgeschlossen")).toBeVisible();
  // Dates in German form: day.month.year, with no English month name.
  await expect(widget.getByText(/Personio · erstellt \d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2} UTC/)).toBeVisible();
  expect(await englishIn(widget, names)).toEqual([]);
});

test("the check itself finds English: the same widget in English fails it", async ({ page }) => {
  const org = `Shell ${Date.now()}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}`,
  );
  const widget = page.frameLocator('iframe[title="HRIS Integration"]');
  await expect(widget.getByRole("switch", { name: "HRIS Integration" })).toBeVisible();
  await expect(widget.locator("html")).toHaveAttribute("lang", "en");
  expect(await englishIn(widget, [org])).toContain("HRIS Integration");
});

test("a link keeps the page's language: followed in the browser or loaded anew", async ({ page }) => {
  await signInFresh(page);
  await page.goto("/no-such-page?locale=de");
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { name: "Seite nicht gefunden" })).toBeVisible();
  await page.getByRole("link", { name: "Zur HRIS-Integration" }).click();
  await expect(page).toHaveURL(/\/admin\/integrations\/hris\?locale=de$/);
  await expect(page.getByRole("heading", { name: "HRIS-Integration", level: 1 })).toBeVisible();
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { name: "HRIS-Integration", level: 1 })).toBeVisible();
});

test("the dev sign-in page names the demo roles in German", async ({ page }) => {
  await page.goto("/signin?locale=de");
  await expect(page.getByText("Admin mit „Integrationen verwalten“ · Acme GmbH")).toBeVisible();
  await expect(page.getByText("Admin with Manage integrations")).toHaveCount(0);
});

test("the shell hears a refused token in German, with a code to act on", async ({ page }) => {
  const org = `Schale ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}&locale=de&tamper=1`,
  );
  const errorEvent = () =>
    page.evaluate(() => (window as any).hostEvents.find((e: any) => e.type === "error")?.detail ?? null);
  await expect.poll(errorEvent).toEqual({ code: "token_refused", message: "Das Anmelde-Token wurde abgelehnt." });
});
