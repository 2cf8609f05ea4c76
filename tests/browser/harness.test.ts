import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { expectAccessible, launchBrowser, tabTo } from "../support/browser.js";

// The harness's own behaviour, on a page of its own (no app needed).
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("the browser harness", () => {
  it("tabTo reaches a control that a re-render replaced on the way (the locator is evaluated at every step)", async () => {
    const page = await browser.newPage();
    // Focusing the field re-renders the button as a new node with the same name, as a reload after an action does.
    await page.setContent(`
      <input aria-label="Name">
      <button>Save</button>
      <script>
        document.querySelector("input").addEventListener("focus", () => {
          const fresh = document.createElement("button");
          fresh.textContent = "Save";
          document.querySelector("button").replaceWith(fresh);
        });
      </script>`);
    await tabTo(page, page.getByRole("button", { name: "Save" }), 5);
    await page.close();
  });

  it("expectAccessible passes a clean page and fails on a serious violation", async () => {
    const page = await browser.newPage();
    await page.setContent(`<html lang="en"><title>Fine</title><main><h1>Fine</h1><button>Named</button></main></html>`);
    await expectAccessible(page, "a clean page");
    // A button without a name is a critical violation (button-name).
    await page.setContent(`<html lang="en"><title>Broken</title><main><h1>Broken</h1><button></button></main></html>`);
    await expect(expectAccessible(page, "a nameless button")).rejects.toThrow(/axe on a nameless button/);
    await page.close();
  });
});
