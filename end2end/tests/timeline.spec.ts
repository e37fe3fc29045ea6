// The timeline on the HRIS page: the admin's own actions, newest first, in the reader's language,
// paged by links (`?timeline_page=`) that keep the page's language.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, signInFresh, turnHrisOn, connectionItem, menuAction, completeLink } from "./fixtures";
import type { FrameLocator, Locator, Page } from "@playwright/test";

const english: string[] = JSON.parse(readFileSync(path.join(__dirname, "english-phrases.json"), "utf8"));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The English UI phrases in `text`, whole words only, names removed. */
function englishIn(text: string, names: string[]): string[] {
  for (const n of names) text = text.split(n).join(" ");
  return english.filter((p) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(p)}($|[^\\p{L}\\p{N}])`, "u").test(text));
}

function timeline(page: Page | FrameLocator, name = "Timeline"): Locator {
  return page.getByRole("region", { name });
}

function entries(page: Page | FrameLocator, name = "Timeline"): Locator {
  return timeline(page, name).getByRole("listitem");
}

/** Flips the HRIS Integration switch `times` times, waiting for each flip. */
async function flip(page: Page | FrameLocator, times: number, name = "HRIS Integration") {
  const toggle = page.getByRole("switch", { name });
  for (let i = 0; i < times; i++) {
    const before = await toggle.getAttribute("aria-checked");
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-checked", before === "true" ? "false" : "true");
  }
}

test("the timeline shows the admin's own actions, newest first, with actor and time", async ({ page }) => {
  await signInFresh(page);
  await expect(timeline(page).getByText("Nothing has happened here yet.")).toBeVisible();
  await turnHrisOn(page);
  await expect(entries(page).first()).toContainText("Alice Admin turned the HRIS Integration on");
  await expect(entries(page).first()).toContainText(/\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC/);

  // Add a connection: Connect → name → Merge Link; then activate and test it.
  await page.getByRole("listitem").filter({ hasText: "Personio" }).getByRole("button", { name: "Connect", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Connect Personio" });
  await dialog.getByLabel("Connection name").fill("Personio Germany");
  await dialog.getByRole("button", { name: "Create name" }).click();
  await dialog.getByRole("button", { name: "Continue on merge.dev" }).click();
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText("Personio Germany is connected.");
  await menuAction(page, "Personio Germany", "Activate");
  await expect(connectionItem(page, "Personio Germany")).toContainText("Active");
  await menuAction(page, "Personio Germany", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded");

  await expect(entries(page).filter({ hasText: "Alice Admin tested “Personio Germany”: Healthy" })).toHaveCount(1);
  const texts = await entries(page).locator(".timeline-text").allInnerTexts();
  // The activation's sync writes entries of its own (by HRIS Connect) whenever it ends.
  const own = (list: string[]) => list.filter((t) => !t.startsWith("HRIS Connect:"));
  expect(own(texts).slice(0, 2)).toEqual([
    "Alice Admin tested “Personio Germany”: Healthy",
    "Alice Admin activated “Personio Germany”",
  ]);
  expect(texts).toContain("Alice Admin connected “Personio Germany”");
  expect(texts.at(-2)).toBe("Alice Admin named a new connection “Personio Germany”");
  expect(texts.at(-1)).toBe("Alice Admin turned the HRIS Integration on");
  // It is the server's record: a reload shows the same (the sync's entries may have come meanwhile).
  await page.reload();
  expect(own(await entries(page).locator(".timeline-text").allInnerTexts())).toEqual(own(texts));
  await page.screenshot({ path: "test-results/timeline-en.png", fullPage: true });
});

test("the timeline pages by twenty, by links that work with and without the script", async ({ page }) => {
  await signInFresh(page);
  // 21 switches: one page of twenty, and the first switch on the second page.
  await flip(page, 21);
  await expect(entries(page)).toHaveCount(20);
  const pager = timeline(page).getByRole("navigation", { name: "Timeline" });
  await expect(pager.getByText("Page 1")).toBeVisible();
  await expect(pager.getByRole("link", { name: "Newer" })).toHaveCount(0);
  await pager.getByRole("link", { name: "Older" }).click();
  await expect(page).toHaveURL(/[?&]timeline_page=2(&|$)/);
  await expect(pager.getByText("Page 2")).toBeVisible();
  await expect(entries(page)).toHaveCount(1);
  await expect(entries(page).first()).toContainText("Alice Admin turned the HRIS Integration on");
  // Loaded anew, the URL gives the same page.
  await page.reload();
  await expect(entries(page)).toHaveCount(1);
  await pager.getByRole("link", { name: "Newer" }).click();
  await expect(page).toHaveURL(/[?&]timeline_page=1(&|$)/);
  await expect(entries(page)).toHaveCount(20);
  await expect(entries(page).first()).toContainText("Alice Admin turned the HRIS Integration on");
});

test("the timeline in German: every entry and the pager in German, the language kept on paging", async ({ page }) => {
  const org = `Schale ${Date.now()} ${Math.floor(Math.random() * 1e6)}`;
  await page.goto(
    `${process.env.HRIS_SHELL_URL}/?widget=${encodeURIComponent(process.env.HRIS_BASE_URL!)}&org=${encodeURIComponent(org)}&locale=de`,
  );
  const widget = page.frameLocator('iframe[title="HRIS Integration"]');
  await expect(widget.locator("html")).toHaveAttribute("lang", "de");
  await expect(timeline(widget, "Verlauf").getByText("Hier ist noch nichts geschehen.")).toBeVisible();
  await flip(widget, 21, "HRIS-Integration");
  await expect(entries(widget, "Verlauf")).toHaveCount(20);
  await expect(entries(widget, "Verlauf").first()).toContainText("Shelly Admin hat die HRIS-Integration eingeschaltet");
  await expect(entries(widget, "Verlauf").first()).toContainText(/\d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2} UTC/);
  const names = ["Shelly Admin", org, "Personio", "BambooHR", "Workday", "HiBob", "Merge.dev"];
  expect(englishIn(await timeline(widget, "Verlauf").innerText(), names)).toEqual([]);

  const pager = timeline(widget, "Verlauf").getByRole("navigation", { name: "Verlauf" });
  await expect(pager.getByRole("link", { name: "Ältere" })).toHaveAttribute("href", /locale=de/);
  await pager.getByRole("link", { name: "Ältere" }).click();
  await expect(pager.getByText("Seite 2")).toBeVisible();
  await expect(entries(widget, "Verlauf")).toHaveCount(1);
  await expect(widget.locator("html")).toHaveAttribute("lang", "de");
  expect(englishIn(await widget.locator("body").innerText(), names)).toEqual([]);
  await page.screenshot({ path: "test-results/timeline-de.png", fullPage: true });
});
