// Connect directly: Administration > Integrations > HRIS Integration, as an admin lives it.
import {
  test,
  expect,
  expectAccessible,
  signInFresh,
  sandbox,
  turnHrisOn,
  connectionItem,
  menuAction,
  linkFrame,
  completeLink,
  startConnect,
  connect,
  accountIdOf,
} from "./fixtures";

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

test("the directory is searchable, and a new connection is linked, activated and tested", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await expect(page.getByText("No HR system is connected yet.")).toBeVisible();

  await page.getByLabel("Search HR systems").fill("bamboo");
  await expect(page.getByRole("listitem").filter({ hasText: "BambooHR" })).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: "Personio" })).toHaveCount(0);
  await page.getByLabel("Search HR systems").fill("");

  await startConnect(page, "Personio", "Personio Germany");
  await expectAccessible(page);
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText("Personio Germany is connected.");
  const item = connectionItem(page, "Personio Germany");
  await expect(item).toContainText("Inactive");
  await expect(item).toContainText("Healthy");
  await expect(item).toContainText("Merge status: COMPLETE");
  await expect(item.locator("img.logo")).toHaveAttribute("src", /personio/);

  await item.getByRole("button", { name: "Actions for Personio Germany" }).click();
  await expectAccessible(page);
  await item.getByRole("button", { name: "Activate", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("Personio Germany is now the active connection.");
  await expect(connectionItem(page, "Personio Germany")).toContainText("Active");

  await menuAction(page, "Personio Germany", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded: Connection works.");

  // It stays after a reload.
  await page.reload();
  await expect(connectionItem(page, "Personio Germany")).toContainText("Active");
});

test("cancelling in the pop-up connects nothing; the unfinished connection can be continued or removed", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  // What is typed under Other HR systems stays while the lists reload.
  await page.getByLabel("Name", { exact: true }).fill("Typed before");
  await page.getByLabel("ID", { exact: true }).fill("typed-id");
  await startConnect(page, "HiBob");
  await linkFrame(page).getByRole("button", { name: "Cancel" }).first().click();
  await expect(page.getByRole("status")).toHaveText("Linking was cancelled. Nothing was connected.");
  const item = connectionItem(page, "HiBob");
  await expect(item).toContainText("Setup not finished");
  await expect(item).not.toContainText("Healthy");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Typed before");
  await expect(page.getByLabel("ID", { exact: true })).toHaveValue("typed-id");

  await item.getByRole("button", { name: "Continue setup" }).click();
  await page.getByRole("dialog", { name: "Finish connecting HiBob" }).getByRole("button", { name: "Continue on merge.dev" }).click();
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText("HiBob is connected.");
  await expect(connectionItem(page, "HiBob")).toContainText("Healthy");

  await startConnect(page, "Workday");
  await linkFrame(page).getByRole("button", { name: "Cancel" }).first().click();
  await connectionItem(page, "Workday").getByRole("button", { name: "Remove" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Delete Workday?" });
  await expectAccessible(page);
  await confirm.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByRole("status")).toHaveText("Workday was deleted.");
  await expect(connectionItem(page, "Workday")).toHaveCount(0);
});

test("names are checked beside the field: empty, too long, duplicate", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Personio", "Main HR");

  await page.getByRole("listitem").filter({ hasText: "BambooHR" }).getByRole("button", { name: "Connect", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Connect BambooHR" });
  const field = dialog.getByLabel("Connection name");
  for (const [value, message] of [
    ["   ", "Enter a name for the connection."],
    ["x".repeat(81), "Use at most 80 characters."],
    ["  main hr ", "A connection named \u201cmain hr\u201d already exists. Choose another name."],
  ]) {
    await field.fill(value);
    await dialog.getByRole("button", { name: "Create name" }).click();
    await expect(dialog.locator("#connection-name-error")).toHaveText(message);
    await expect(field).toHaveAttribute("aria-invalid", "true");
  }
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(connectionItem(page, "BambooHR")).toHaveCount(0);
});

test("a provider fault during the token exchange leaves the connection unfinished, with the reason", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await startConnect(page, "Gusto");
  // Only the exchange fails: the suite's background work (health checks, syncs) calls Merge too.
  await sandbox("POST", "/faults", { kind: "server_error", count: 3, stream: "account-token" });
  await completeLink(page);
  await expect(page.getByRole("status")).toHaveText(
    "The HR data service is not reachable right now. Please try again in a few minutes.",
  );
  await expect(connectionItem(page, "Gusto")).toContainText("Setup not finished");
});

test("Test Connection turns red when the token is revoked, and Relink Flow restores it", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Personio", "Personio");
  const account = await accountIdOf(page, "Personio");
  await sandbox("POST", "/faults", { kind: "token_revoked", account_id: account });

  await menuAction(page, "Personio", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection failed: The HR system connection was refused");
  await expect(connectionItem(page, "Personio")).toContainText("Relink needed");
  await expect(connectionItem(page, "Personio")).toContainText(/Last check .* UTC: The HR system connection was refused/);

  await menuAction(page, "Personio", "Relink Flow");
  await page.getByRole("dialog", { name: "Relink Personio" }).getByRole("button", { name: "Continue on merge.dev" }).click();
  await completeLink(page, { relink: true });
  await expect(page.getByRole("status")).toHaveText("Personio is connected.");
  await menuAction(page, "Personio", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded");
  await expect(connectionItem(page, "Personio")).toContainText("Healthy");
  expect(await accountIdOf(page, "Personio")).toBe(account);
});

test("relinking to a different HR tenant is refused and keeps the old credentials", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "BambooHR", "BambooHR");
  const account = await accountIdOf(page, "BambooHR");

  await menuAction(page, "BambooHR", "Relink Flow");
  await page.getByRole("dialog", { name: "Relink BambooHR" }).getByRole("button", { name: "Continue on merge.dev" }).click();
  await completeLink(page, { relink: true, tenant: "another-company.example" });
  await expect(page.getByRole("status")).toContainText(
    "This is a different HR account than the one connected before, so the relink was refused.",
  );
  expect(await accountIdOf(page, "BambooHR")).toBe(account);
  await menuAction(page, "BambooHR", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded");
});

test("activating another connection asks first and deactivates the first; Deactivate keeps it", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Personio", "First");
  await connect(page, "HiBob", "Second");
  await menuAction(page, "First", "Activate");
  await expect(connectionItem(page, "First")).toContainText("Active");

  await menuAction(page, "Second", "Activate");
  const confirm = page.getByRole("alertdialog", { name: "Activate Second?" });
  await expect(confirm).toContainText("First is the active connection now. Activating Second deactivates it.");
  await expectAccessible(page);
  await confirm.getByRole("button", { name: "Activate" }).click();
  // Once First's sync has filled the directory, switching shows its preview first (sync.spec.ts).
  const activated = page.getByText("Second is now the active connection.");
  const preview = page.getByRole("alertdialog", { name: "Switch the employee directory to Second?" });
  await expect(activated.or(preview)).toBeVisible();
  if (await preview.isVisible()) await preview.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toHaveText("Second is now the active connection.");
  await expect(connectionItem(page, "Second").locator(".badge")).toHaveText("Active");
  await expect(connectionItem(page, "First").locator(".badge")).toHaveText("Inactive");

  await menuAction(page, "Second", "Deactivate");
  await expect(page.getByRole("status")).toHaveText("Second is deactivated. Its credentials are kept.");
  await expect(connectionItem(page, "Second").locator(".badge")).toHaveText("Inactive");
  await menuAction(page, "Second", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded");
});

test("Delete asks, names the connection, and removes nothing when the provider fails", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Workday", "Workday EU");

  await sandbox("POST", "/faults", { kind: "server_error", count: 1 });
  await menuAction(page, "Workday EU", "Delete");
  const confirm = page.getByRole("alertdialog", { name: "Delete Workday EU?" });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status")).toContainText("The connection was not deleted.");
  await expect(connectionItem(page, "Workday EU")).toBeVisible();

  await menuAction(page, "Workday EU", "Delete");
  await page.getByRole("alertdialog", { name: "Delete Workday EU?" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status")).toHaveText("Workday EU was deleted.");
  await expect(connectionItem(page, "Workday EU")).toHaveCount(0);
  await page.reload();
  await expect(connectionItem(page, "Workday EU")).toHaveCount(0);
});

test("the page and every connection action is keyboard operable", async ({ page }) => {
  await signInFresh(page);
  await turnHrisOn(page);
  await connect(page, "Personio", "Keyboard");
  const menu = connectionItem(page, "Keyboard").getByRole("button", { name: "Actions for Keyboard" });
  await menu.focus();
  await page.keyboard.press("Enter");
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await page.keyboard.press("Tab");
  await expect(connectionItem(page, "Keyboard").getByRole("button", { name: "Activate" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status")).toHaveText("Keyboard is now the active connection.");
});

test("without Manage integrations, every connection server function is refused", async ({ page }) => {
  const calls: [string, Record<string, string>][] = [
    ["connections/list", {}],
    ["connections/directory", {}],
    ["connections/start", { slug: "personio", name: "X" }],
    ["connections/link_again", { id: "x" }],
    ["connections/finish_link", { id: "x", public_token: "x" }],
    ["connections/test", { id: "x" }],
    ["connections/activate", { id: "x" }],
    ["connections/deactivate", { id: "x" }],
    ["connections/delete", { id: "x" }],
  ];
  for (const [path, form] of calls) {
    const res = await page.request.post(`/api/${path}`, { form });
    expect(res.status(), path).toBe(401);
  }
  await signInFresh(page, "bob");
  for (const [path, form] of calls) {
    const res = await page.request.post(`/api/${path}`, { form });
    expect(res.status(), path).toBe(403);
  }
});
