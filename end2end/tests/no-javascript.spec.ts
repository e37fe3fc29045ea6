// Without JavaScript (the `no-js` project): the admin's flows are plain form posts. The page comes
// back after each one, with a refusal's message; only Merge Link's pop-up needs script, and the
// page says so.
// Axe needs script in the page, so these pages are not scanned here (the default project scans
// the same pages with script).
import { test } from "@playwright/test";
import {
  expect,
  signInFresh,
  sandbox,
  turnHrisOn,
  connectionItem,
  menuAction,
  deskFor,
  issueLink,
  customerConnects,
  addConnection,
} from "./fixtures";
import type { Browser } from "@playwright/test";

/** An account connected through a magic link; its ID and token as the desk hands them over. */
async function manualAccount(browser: Browser, org: string) {
  const desk = await deskFor(browser, org);
  await customerConnects(browser, await issueLink(desk, "BambooHR"), "BambooHR");
  await desk.context().close();
  const accounts = (await sandbox("GET", "/accounts")).results as { id: string; account_token: string }[];
  const { id, account_token: token } = accounts[accounts.length - 1];
  return { id, token };
}

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

test("an admin signs in", async ({ page }) => {
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in as Gina Globex" }).click();
  await expect(page).toHaveURL(/\/admin\/integrations\/hris$/);
  await expect(page.getByRole("banner").getByText("Gina Globex")).toBeVisible();
});

test("an admin turns the integration on, adds, activates, tests, deactivates and deletes a connection", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page);

  // Connecting directly needs Merge Link's pop-up: the page says so instead of offering dead buttons.
  await expect(page.getByText(/Connecting directly opens Merge Link in a pop-up, which needs JavaScript\./)).toBeVisible();
  await expect(
    page.getByRole("listitem").filter({ hasText: "Personio" }).getByRole("button", { name: "Connect", exact: true }),
  ).toBeDisabled();

  const { id, token } = await manualAccount(browser, org);

  // A wrong token is refused with its message beside the field; nothing is added.
  await addConnection(page, "Payroll", id, "not-a-token");
  await expect(page.locator("#other-token-error")).toHaveText(
    "This token was rejected by Merge. Check that you copied it completely.",
  );
  await expect(page.getByLabel("Token", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("region", { name: "Other connected HRIS systems" })).toContainText(
    "No other HR system is connected yet.",
  );

  await addConnection(page, "Payroll", id, token);
  const item = () => connectionItem(page, "Payroll");
  await expect(item()).toContainText("Healthy");
  await expect(item().locator(".badge")).toHaveText("Inactive");
  await expect(page.locator("#other-token-error")).toHaveText("");

  await menuAction(page, "Payroll", "Activate");
  await expect(item().locator(".badge")).toHaveText("Active");

  // Test Connection runs: with the token revoked at the provider, the connection turns red.
  await sandbox("POST", "/faults", { kind: "token_revoked", account_id: id });
  await menuAction(page, "Payroll", "Test Connection");
  await expect(item()).toContainText("Relink needed");
  await sandbox("DELETE", "/faults");
  await menuAction(page, "Payroll", "Test Connection");
  await expect(item()).toContainText("Healthy");

  await menuAction(page, "Payroll", "Deactivate");
  await expect(item().locator(".badge")).toHaveText("Inactive");

  // Delete asks first (a page of its own without script); a provider failure is reported and
  // removes nothing.
  await sandbox("POST", "/faults", { kind: "server_error", count: 1 });
  await menuAction(page, "Payroll", "Delete");
  await page.getByRole("alertdialog", { name: "Delete Payroll?" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status")).toContainText("The connection was not deleted.");
  await expect(item()).toBeVisible();
  await expect(page.getByRole("alertdialog")).toHaveCount(0);

  await menuAction(page, "Payroll", "Delete");
  const confirm = page.getByRole("alertdialog", { name: "Delete Payroll?" });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await expect(item()).toBeVisible();

  await menuAction(page, "Payroll", "Delete");
  await page.getByRole("alertdialog", { name: "Delete Payroll?" }).getByRole("button", { name: "Delete" }).click();
  await expect(item()).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText("");
});
