import { defineConfig } from "@playwright/test";

// The suite starts its own freshly built server (see global-setup.ts) on a free port with a fresh
// database, in Debian's Chromium: Playwright cannot download browsers on our machines.
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  // `no-js` runs the admin's flows with JavaScript off, as plain form posts (as lemmy-ui-leptos does).
  projects: [
    { name: "default", testIgnore: /no-javascript\.spec\.ts$/ },
    { name: "no-js", testMatch: /no-javascript\.spec\.ts$/, use: { javaScriptEnabled: false } },
  ],
  use: {
    baseURL: process.env.HRIS_BASE_URL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
