import { Secret, TOTP } from "otpauth";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, must } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import {
  activate,
  expectAccessible,
  expectNoSidewaysScroll,
  launchBrowser,
  openApp,
  openPage,
  phone,
  screenshotOnFailure,
  scriptBytesGzipped,
  signedInPage,
  typeInto,
} from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp } from "../support/identity.js";

/** The web storage functions evaluated in the page see (the tests' own lib has no DOM types). */
interface StorageGlobals {
  localStorage: { getItem(key: string): string | null };
  sessionStorage: { removeItem(key: string): void };
}

/** The refresh token the app stored (web/src/api/session.ts), or null when no session is stored. */
async function storedRefreshToken(page: Page): Promise<string | null> {
  const raw = await page.evaluate(() => (globalThis as unknown as StorageGlobals).localStorage.getItem("ringlet.session"));
  return raw ? (JSON.parse(raw) as { refreshToken: string }).refreshToken : null;
}

/** Forgets this tab's access token, so the app's next call has to rotate the refresh token first. */
async function dropAccessToken(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as StorageGlobals).sessionStorage.removeItem("ringlet.access"));
}

/** The code an authenticator app shows `steps` time steps from now (the server accepts one step either side). */
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * 30_000 });

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
    await openPage(page, "/", "Welcome to Ringlet");
    const bytes = await scriptBytesGzipped(page);
    console.log(`first page: ${(bytes / 1024).toFixed(1)} KB of JavaScript, gzipped`);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(150 * 1024);
    expect(errors).toEqual([]);
    await context.close();
  });

  // axe once per page, at 360 px (what it checks does not depend on the width, and only there can a page overflow).
  it("passes axe and fits 360 px: start, sign-in, register, catalog, not found", async () => {
    const { page, context, errors } = await openApp(browser, started.app, phone);
    screenshotOnFailure(page, "public-pages-360");
    for (const path of ["/", "/sign-in", "/register", "/courses", "/no-such-page"]) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await expectAccessible(page, `${path} at 360 px`);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

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
    // A reload keeps the session (it reuses this tab's access token; the session tests below force a rotation).
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

describe("the session", () => {
  it("rotates the refresh token silently when the access token is gone, and a refused rotation signs out", async () => {
    const [user, admin] = await Promise.all([signUp(started.app, started.db, { label: "rotator" }), signUp(started.app, started.db, { label: "revoker", admin: true })]);
    const { page, context, errors } = await signedInPage(browser, started.app, user);
    screenshotOnFailure(page, "silent-rotation");
    await openPage(page, "/", "Welcome, rotator");
    const before = await storedRefreshToken(page);
    expect(before).not.toBeNull();
    await dropAccessToken(page);
    await page.reload();
    await page.getByRole("heading", { name: "Welcome, rotator" }).waitFor();
    const rotated = await storedRefreshToken(page);
    expect(rotated).not.toBeNull();
    expect(rotated).not.toBe(before);

    // An administrator ends the user's sessions: the next call's 401 rotates, the rotation is refused, and the
    // app signs out and says why.
    await must(apiClient(started.app, admin.accessToken).POST("/v1/users/{userId}/sessions/revoke", { params: { path: { userId: user.id } } }));
    await page.goto("/grades");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Your session ended" }).count()).toBe(1);
    expect(await storedRefreshToken(page)).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("keeps the session when the server cannot answer the rotation (503), and resumes it once it can", async () => {
    const user = await signUp(started.app, started.db, { label: "outage" });
    const { page, context, errors } = await signedInPage(browser, started.app, user);
    screenshotOnFailure(page, "rotation-503");
    await openPage(page, "/", "Welcome, outage");
    const before = await storedRefreshToken(page);
    // Both tries of the next load (before the call, and after its 401) meet a server that cannot answer.
    let unavailable = 0;
    await page.route(
      "**/api/v1/auth/refresh",
      (route) => {
        unavailable++;
        return route.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ type: "about:blank", title: "Unavailable", status: 503, code: "SERVICE_UNAVAILABLE" }) });
      },
      { times: 2 },
    );
    await dropAccessToken(page);
    await page.goto("/grades");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(unavailable).toBe(2);
    expect(await storedRefreshToken(page)).toBe(before);
    expect(await page.getByText("Your session ended").count()).toBe(0);
    await openPage(page, "/", "Welcome, outage");
    expect(await storedRefreshToken(page)).not.toBe(before);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("signs in with a second step by keyboard; a wrong code is announced and counts once; `next` stays on this site", async () => {
    const [user, earlier] = await Promise.all([signUp(started.app, started.db, { label: "twostep" }), signUp(started.app, started.db, { label: "earlier" })]);
    const me = apiClient(started.app, user.accessToken);
    const { secret } = await must(me.POST("/v1/me/two-factor", { body: { currentPassword: user.password } }));
    await must(me.POST("/v1/me/two-factor/confirm", { body: { code: codeAt(secret) } }));
    const valid = [-2, -1, 0, 1, 2].map((step) => codeAt(secret, step));
    const wrong = ["000000", "111111", "222222", "333333"].find((c) => !valid.includes(c)) as string;

    // Someone else's session is still stored in this browser: a wrong code must not rotate it and try again.
    const { page, context, errors } = await signedInPage(browser, started.app, earlier);
    screenshotOnFailure(page, "two-step-sign-in");
    await openPage(page, "/", "Welcome, earlier");
    await openPage(page, `/sign-in?next=${encodeURIComponent("/\\evil.example")}`, "Sign in");
    await typeInto(page, page.getByLabel("Email"), user.email);
    await typeInto(page, page.getByLabel("Password"), user.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
    await expectAccessible(page, "the two-step sign-in");

    await typeInto(page, page.getByLabel("Code from your authenticator app"), wrong);
    await activate(page, page.getByRole("button", { name: "Continue" }));
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not correct/);
    const [challenge] = await started.db.sql<{ failed_attempts: number }[]>`select failed_attempts from two_factor_challenges where user_id = ${user.id}`;
    expect(challenge?.failed_attempts).toBe(1);

    // The confirmation spent the current code: an authenticator's next one is accepted.
    await typeInto(page, page.getByLabel("Code from your authenticator app"), codeAt(secret, 1));
    await activate(page, page.getByRole("button", { name: "Continue" }));
    await page.getByRole("heading", { name: "Welcome, twostep" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("ends a tab's session when another tab signs out, and follows another tab's sign-in as someone else", async () => {
    const [first, second] = await Promise.all([signUp(started.app, started.db, { label: "firsttab" }), signUp(started.app, started.db, { label: "secondtab" })]);
    const { page, context, errors } = await signedInPage(browser, started.app, first);
    screenshotOnFailure(page, "multi-tab");
    await openPage(page, "/", "Welcome, firsttab");
    const other = await context.newPage();
    other.on("pageerror", (err) => errors.push(`other tab's page error: ${err.message}`));
    screenshotOnFailure(other, "multi-tab-other");
    await openPage(other, "/grades");
    await other.getByRole("button", { name: "Sign out" }).waitFor();

    // Signing out in the first tab ends the other's session too, with the reason on its sign-in page.
    await activate(page, page.getByRole("button", { name: "Sign out" }));
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await other.getByRole("heading", { name: "Sign in" }).waitFor();
    await other.getByRole("status").filter({ hasText: "Your session ended in another tab" }).waitFor();

    // The first tab signs in as someone else: the other, signed out, stays so until it loads again.
    await typeInto(page, page.getByLabel("Email"), second.email);
    await typeInto(page, page.getByLabel("Password"), second.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { name: "Welcome, secondtab" }).waitFor();
    expect(await other.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    await openPage(other, "/", "Welcome, secondtab");

    // Signing in as another user again (without signing out) makes the other tab start over as that user.
    await openPage(page, "/sign-in", "Sign in");
    await typeInto(page, page.getByLabel("Email"), first.email);
    await typeInto(page, page.getByLabel("Password"), first.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { name: "Welcome, firsttab" }).waitFor();
    await other.getByRole("heading", { name: "Welcome, firsttab" }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
