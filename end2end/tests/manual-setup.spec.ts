// Manual setup across both roles: the service desk issues a magic link, the customer connects
// through it, the desk hands over ID and token, the admin adds the connection under Other HR systems.
import {
  test,
  expect,
  expectAccessible,
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
import type { Page } from "@playwright/test";

function linkRow(desk: Page, status: string) {
  return desk.getByRole("row").filter({ hasText: status });
}

test.afterEach(async () => {
  await sandbox("DELETE", "/faults");
});

test("the whole seed process: desk link, customer connects, desk hands over, admin adds, activates, tests", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page);
  const desk = await deskFor(browser, org);
  const url = await issueLink(desk, "BambooHR");
  await expectAccessible(desk);
  await expect(linkRow(desk, "Pending")).toContainText("BambooHR");

  await customerConnects(browser, url, "BambooHR");

  // The webhook marks the link used; the desk reveals ID and token.
  await expect(async () => {
    await desk.reload();
    await desk.getByLabel("Organization").selectOption({ label: org });
    await expect(linkRow(desk, "Used")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  const row = linkRow(desk, "Used");
  const id = (await row.locator("code").first().innerText()).trim();
  expect(id).not.toBe("");
  await row.getByRole("button", { name: "Reveal token" }).click();
  const token = (await row.locator(".token code").innerText()).trim();
  expect(token.length).toBeGreaterThan(10);
  await expectAccessible(desk);

  await addConnection(page, "BambooHR (desk)", id, token);
  await expect(page.getByRole("status")).toHaveText("BambooHR (desk) was added.");
  const other = page.getByRole("region", { name: "Other connected HRIS systems" });
  await expect(connectionItem(page, "BambooHR (desk)")).toContainText("Healthy");
  await expect(other.getByRole("heading", { name: "BambooHR (desk)" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Connected HRIS systems", exact: true }).getByRole("heading", { name: "BambooHR (desk)" })).toHaveCount(0);
  await expect(page.getByLabel("Token", { exact: true })).toHaveValue("");

  await menuAction(page, "BambooHR (desk)", "Activate");
  await expect(page.getByRole("status")).toHaveText("BambooHR (desk) is now the active connection.");
  await menuAction(page, "BambooHR (desk)", "Test Connection");
  await expect(page.getByRole("status")).toContainText("Test Connection succeeded");
  const item = connectionItem(page, "BambooHR (desk)");
  await item.getByRole("button", { name: "Actions for BambooHR (desk)" }).click();
  await expect(item.getByRole("button", { name: "Relink Flow" })).toHaveCount(0);
  await expect(item).toContainText("to relink it, contact the service desk");
  await desk.context().close();
});

test("an expired link is refused on its page", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page);
  const desk = await deskFor(browser, org);
  const url = await issueLink(desk);
  await sandbox("POST", "/clock/advance", { days: 7 });
  const customer = await browser.newPage();
  await customer.goto(url);
  await expect(customer.getByRole("heading", { name: "This link cannot be used" })).toBeVisible();
  await expect(customer.getByRole("alert")).toContainText(/expired/i);
  await customer.close();
  await desk.context().close();
});

test("a revoked link is not accepted even if the customer completes it", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page);
  const desk = await deskFor(browser, org);
  const url = await issueLink(desk, "HiBob");
  await linkRow(desk, "Pending").getByRole("button", { name: "Revoke" }).click();
  await expect(desk.getByRole("status")).toHaveText("The magic link was revoked.");
  await expect(linkRow(desk, "Revoked")).toBeVisible();
  await customerConnects(browser, url, "HiBob");
  await desk.reload();
  await desk.getByLabel("Organization").selectOption({ label: org });
  await expect(linkRow(desk, "Revoked")).toBeVisible();
  await expect(desk.getByRole("button", { name: "Reveal token" })).toHaveCount(0);
  await desk.context().close();
});

test("wrong ID, rejected token, provider fault and duplicate name are explained beside the fields", async ({ page, browser }) => {
  const org = await signInFresh(page);
  await turnHrisOn(page);
  const desk = await deskFor(browser, org);
  await customerConnects(browser, await issueLink(desk, "Personio"), "Personio");
  await desk.context().close();
  // The ID and token as the desk would hand them over (read from the sandbox's dashboard view).
  const accounts = (await sandbox("GET", "/accounts")).results as { id: string; account_token: string }[];
  const { id, account_token: token } = accounts[accounts.length - 1];

  await addConnection(page, "Other one", "wrong-id", token);
  await expect(page.locator("#other-id-error")).toHaveText("This ID does not match the token. Check both values from the service desk.");
  await expect(page.getByLabel("ID", { exact: true })).toHaveAttribute("aria-invalid", "true");

  await addConnection(page, "Other one", id, "not-a-token");
  await expect(page.locator("#other-token-error")).toHaveText("This token was rejected by Merge. Check that you copied it completely.");
  await expect(page.content()).resolves.not.toContain("not-a-token\"");

  await sandbox("POST", "/faults", { kind: "server_error", count: 3 });
  await addConnection(page, "Other one", id, token);
  await expect(page.locator("#other-token-error")).toContainText("The token could not be checked.");
  await expectAccessible(page);
  await expect(page.getByRole("region", { name: "Other connected HRIS systems" })).toContainText("No other HR system is connected yet.");

  await addConnection(page, "Other one", id, token);
  await expect(page.getByRole("status")).toHaveText("Other one was added.");
  await addConnection(page, "other ONE", id, token);
  await expect(page.locator("#other-name-error")).toHaveText("A connection named \u201cother ONE\u201d already exists. Choose another name.");
});
