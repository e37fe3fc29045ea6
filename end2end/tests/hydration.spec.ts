import { test, expect, signInFresh, turnHrisOn } from "./fixtures";

// The browser hydrates the markup the server rendered. A mismatch (both sides built with different
// view code: once, the release server without `--cfg erase_components` and the wasm with it) panics
// in the browser and the page only works through its no-script forms. The build configuration
// makes that mismatch impossible (app/src/lib.rs refuses to compile without the cfg); this spec
// checks the outcome: the page with every part shown hydrates (`hris:hydrated`), with no error on
// the console and no uncaught exception, standalone and embedded.
for (const path of ["/admin/integrations/hris", "/embed/hris"]) {
  test(`${path} hydrates with no console error`, async ({ page }) => {
    await signInFresh(page);
    await turnHrisOn(page);
    const errors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
    await page.goto(path);
    await expect
      .poll(() => page.evaluate(() => performance.getEntriesByName("hris:hydrated", "mark").length))
      .toBe(1);
    expect(errors).toEqual([]);
  });
}
