import { test, expect, signInAs } from "./fixtures";

test("an admin turns the HRIS Integration on and off, and it persists across reloads", async ({ page }) => {
  await signInAs(page, "Alice Admin");
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toHaveText(
    /Administration\s*Integrations\s*HRIS Integration/,
  );
  await expect(page.getByRole("heading", { level: 1, name: "HRIS Integration" })).toBeVisible();
  const toggle = page.getByRole("switch", { name: "HRIS Integration" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect(page.getByText("Turning on the HRIS Integration lets you connect")).toBeVisible();

  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(page.getByText("No HR system is connected yet.")).toBeVisible();

  await page.reload();
  await expect(page.getByRole("switch", { name: "HRIS Integration" })).toHaveAttribute("aria-checked", "true");

  await page.getByRole("switch", { name: "HRIS Integration" }).click();
  await expect(page.getByRole("switch", { name: "HRIS Integration" })).toHaveAttribute("aria-checked", "false");
  await page.reload();
  await expect(page.getByRole("switch", { name: "HRIS Integration" })).toHaveAttribute("aria-checked", "false");
});

test("a user without Manage integrations is refused on the page and on the server", async ({ page }) => {
  await signInAs(page, "Bob Editor");
  await expect(page.getByRole("alert")).toHaveText("You need the Manage integrations permission to do this.");
  await expect(page.getByRole("switch")).toHaveCount(0);

  // The server itself refuses, whatever the page shows: call the server function directly.
  const direct = await page.request.post("/api/hris/set_enabled", { form: { enabled: "true" } });
  expect(direct.status()).toBe(403);
  const read = await page.request.post("/api/hris/settings");
  expect(read.status()).toBe(403);
});

test("without a session the server answers 401 and the page offers sign-in", async ({ page }) => {
  const direct = await page.request.post("/api/hris/set_enabled", { form: { enabled: "true" } });
  expect(direct.status()).toBe(401);
  await page.goto("/admin/integrations/hris");
  await expect(page.getByRole("alert")).toContainText("You are not signed in");
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("the toggle works before the page is hydrated (plain form post)", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in as Gina Globex" }).click();
  await expect(page).toHaveURL(/\/admin\/integrations\/hris$/);
  const toggle = page.getByRole("switch", { name: "HRIS Integration" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await toggle.click();
  await expect(page.getByRole("switch", { name: "HRIS Integration" })).toHaveAttribute("aria-checked", "true");
  await context.close();
});
