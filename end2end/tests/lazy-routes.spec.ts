import { test, expect, signInFresh, turnHrisOn } from "./fixtures";

// The service-desk console and the dev sign-in page ship as their own wasm chunks (lazy routes):
// the admin page downloads neither, and the desk page still hydrates and works, whether opened
// directly or by navigating to it. Parts of the admin page that open on a click (the Connect
// dialog, the switch preview) or show only in a rare state (held removals) are lazy chunks too.
const isDeskChunk = (url: string) => /\/pkg\/split_[^/]*desk[^/]*\.wasm$/.test(url);
const isAnyChunk = (url: string) => /\/pkg\/(split_|chunk_)[^/]*\.wasm$/.test(url);

test("the admin page loads no lazy chunk; the desk page loads its own and works", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page); // a hydrated, working admin page
  const chunks: string[] = [];
  page.on("request", (r) => { if (isAnyChunk(r.url())) chunks.push(r.url()); });
  await page.reload();
  await expect(page.getByRole("switch", { name: "HRIS Integration" })).toHaveAttribute("aria-checked", "true");
  expect(chunks).toEqual([]);
  // The frontend marks the moment hydration is done (the page answers clicks), once per page load.
  await expect
    .poll(() => page.evaluate(() => performance.getEntriesByName("hris:hydrated", "mark").length))
    .toBe(1);

  const context = await browser.newContext({ baseURL: process.env.HRIS_BASE_URL });
  const desk = await context.newPage();
  const deskChunks: string[] = [];
  desk.on("request", (r) => { if (isDeskChunk(r.url())) deskChunks.push(r.url()); });
  await desk.goto("/signin");
  await desk.getByRole("button", { name: "Sign in as Dana Desk" }).click();
  // Client-side navigation to the lazy route fetches the chunk, then renders the console.
  await desk.getByRole("link", { name: "Service desk" }).click();
  await expect(desk.getByRole("heading", { level: 1, name: "Service desk" })).toBeVisible();
  await expect.poll(() => deskChunks.length).toBeGreaterThan(0);

  // Opened directly, the page hydrates with the chunk: its controls respond.
  deskChunks.length = 0;
  await desk.goto("/desk");
  await expect.poll(() => deskChunks.length).toBeGreaterThan(0);
  await desk.getByLabel("Organization").selectOption({ label: org });
  await desk.getByRole("button", { name: "Create magic link" }).click();
  await expect(desk.getByRole("status")).toHaveText("Magic link created. It is valid for 7 days.");
  await context.close();
});

test("the Connect dialog's code is fetched the first time an admin opens it, and the dialog works", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  const chunks: string[] = [];
  page.on("request", (r) => { if (isAnyChunk(r.url())) chunks.push(r.url()); });
  await page.reload();
  await expect
    .poll(() => page.evaluate(() => performance.getEntriesByName("hris:hydrated", "mark").length))
    .toBe(1);
  expect(chunks).toEqual([]);
  await page.getByRole("listitem").filter({ hasText: "BambooHR" }).getByRole("button", { name: "Connect", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Connect BambooHR" });
  await expect(dialog.getByLabel("Connection name")).toHaveValue("BambooHR");
  expect(chunks.filter((u) => /\/pkg\/split_link_dialog[^/]*\.wasm$/.test(u))).toHaveLength(1);
  // (With it, a chunk of code it shares with other lazy parts may come too.)
  const fetched = chunks.length;
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  // Opened again, the code is already there.
  await page.getByRole("listitem").filter({ hasText: "BambooHR" }).getByRole("button", { name: "Connect", exact: true }).click();
  await expect(dialog.getByLabel("Connection name")).toHaveValue("BambooHR");
  expect(chunks).toHaveLength(fetched);
});
