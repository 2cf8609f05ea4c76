import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, desktop, expectAccessible, expectNoSidewaysScroll, launchBrowser, openApp, phone, screenshotOnFailure, scriptBytesGzipped, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp } from "../support/identity.js";

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;

beforeAll(async () => {
  [started, browser] = await Promise.all([startAppOnOwnDatabase(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

describe("the web app's public pages", () => {
  it("loads the first page with under 150 KB of gzipped JavaScript, and no script the CSP refuses", async () => {
    const { page, context, errors } = await openApp(browser, started.app);
    screenshotOnFailure(page, "first-page");
    await page.goto("/");
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.waitForLoadState("networkidle");
    const bytes = await scriptBytesGzipped(page);
    console.log(`first page: ${(bytes / 1024).toFixed(1)} KB of JavaScript, gzipped`);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(150 * 1024);
    expect(errors).toEqual([]);
    await context.close();
  });

  for (const [label, viewport] of [
    ["desktop", desktop],
    ["360 px", phone],
  ] as const) {
    it(`passes axe and fits the screen at ${label}: start, sign-in, register, catalog, not found`, async () => {
      const { page, context, errors } = await openApp(browser, started.app, viewport);
      screenshotOnFailure(page, `public-pages-${label}`);
      for (const path of ["/", "/sign-in", "/register", "/courses", "/no-such-page"]) {
        await page.goto(path);
        await page.getByRole("heading", { level: 1 }).waitFor();
        await expectAccessible(page, `${path} at ${label}`);
        await expectNoSidewaysScroll(page, `${path} at ${label}`);
      }
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it("signs in with the keyboard alone, and a refused password is announced", async () => {
    const user = await signUp(started.app, started.db, { label: "keyboarder" });
    const { page, context, errors } = await openApp(browser, started.app);
    screenshotOnFailure(page, "keyboard-sign-in");
    await page.goto("/sign-in");
    await typeInto(page, page.getByLabel("Email"), user.email);
    await typeInto(page, page.getByLabel("Password"), "not the password");
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/.+/);
    await typeInto(page, page.getByLabel("Password"), user.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { name: "Welcome, keyboarder" }).waitFor();
    // A reload keeps the session: the stored refresh token is rotated silently.
    await page.reload();
    await page.getByRole("heading", { name: "Welcome, keyboarder" }).waitFor();
    await activate(page, page.getByRole("button", { name: "Sign out" }));
    await page.getByRole("heading", { name: "Sign in" }).waitFor();

    // A page behind sign-in (an email's link) sends a signed-out visitor to sign in, then back to it.
    await page.goto("/grades");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(new URL(page.url()).searchParams.get("next")).toBe("/grades");
    await typeInto(page, page.getByLabel("Email"), user.email);
    await typeInto(page, page.getByLabel("Password"), user.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.waitForURL((url) => url.pathname === "/grades");
    expect(errors).toEqual([]);
    await context.close();
  });
});
