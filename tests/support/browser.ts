import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { expect, onTestFailed } from "vitest";
import { apiClient, must } from "./api-client.js";
import { repoRoot, type RunningApp } from "./app.js";
import type { TestUser } from "./identity.js";

/** What functions evaluated in the page see (the tests' own lib has no DOM types). */
interface PageGlobals {
  document: { activeElement: unknown; documentElement: { scrollWidth: number; clientWidth: number } };
  localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

/**
 * Debian's Chromium headless shell (`.ci/run` installs the `chromium-headless-shell` package when it is missing), or
 * else the full Chromium; CHROMIUM_PATH overrides. The shell is Chromium without the browser around it, as Playwright
 * itself runs headless: two journey files took 22 s of Chromium CPU and 30 s on the clock with it, 50 s and 45 s with
 * the full browser in headless mode.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? (existsSync("/usr/bin/chromium-headless-shell") ? "/usr/bin/chromium-headless-shell" : "/usr/bin/chromium");

/**
 * Headless Chromium for the journeys. The machine's network is closed: without the background-networking flags
 * Chromium keeps trying Google's hosts at start (docs: /work/.library/env). No sandbox: CI runs as root.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync"],
  });
}

export const phone = { width: 360, height: 740 };
export const desktop = { width: 1280, height: 800 };

/** A fresh context (no stored session) on the app, at a width; its errors fail the journey. */
export async function openApp(browser: Browser, app: RunningApp, viewport = desktop): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: app.baseUrl, viewport, reducedMotion: "reduce" });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
  // A CSP violation is reported on the console: it means a page needs what the policy forbids.
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

/**
 * A context and page already signed in as `user`: a fresh session (its own refresh token; one token used in two
 * contexts is a reuse, which the server treats as theft and ends the session) stored as web/src/api/session.ts
 * stores it, before the app's first script runs.
 */
export async function signedInPage(browser: Browser, app: RunningApp, user: TestUser, viewport = desktop): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const tokens = await must(apiClient(app).POST("/v1/auth/login", { body: { email: user.email, password: user.password } }));
  if (!("refreshToken" in tokens)) throw new Error(`signedInPage: ${user.email} has a two-factor step`);
  const opened = await openApp(browser, app, viewport);
  const stored = JSON.stringify({ refreshToken: tokens.refreshToken, refreshTokenExpiresAt: tokens.refreshTokenExpiresAt, userId: user.id });
  // The init script runs before every load: store the token once per context only, so that later loads keep the
  // token the app rotated, and a signed-out page stays signed out (the old token again would be a reuse).
  await opened.context.addInitScript((value) => {
    const storage = (globalThis as unknown as PageGlobals).localStorage;
    if (storage.getItem("ringlet.test.seeded")) return;
    storage.setItem("ringlet.test.seeded", "1");
    storage.setItem("ringlet.session", value);
  }, stored);
  return opened;
}

/** Every busy region of the page is gone (its data arrived); call once the page itself is there. */
export async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
}

/**
 * Opens `path` and waits until it is ready: its h1 (when given; otherwise any h1, so a lazy page has rendered
 * before the busy check, which would pass at once on an empty page), then nothing left `aria-busy`.
 */
export async function openPage(page: Page, path: string, h1?: string | RegExp): Promise<void> {
  await page.goto(path);
  await page.getByRole("heading", { level: 1, ...(h1 !== undefined ? { name: h1 } : {}) }).first().waitFor();
  await settled(page);
}

const resultsDir = join(repoRoot, "test-results");

/** Saves a full-page screenshot under test-results/ when the running test fails (registered per test). */
export function screenshotOnFailure(page: Page, name: string): void {
  onTestFailed(async () => {
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `${name.replace(/[^a-z0-9-]+/gi, "-")}-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.error(`screenshot of the failed journey: ${file}`);
  });
}

/** axe-core (WCAG 2.x A and AA rules) on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // Legacy mode runs axe in the page (and its same-origin frames) alone. The default opens a blank page for every
  // check, loads axe into it a second time and finishes the run there: a renderer process and ~500 KB of script more
  // per check, for cross-origin frames, which the app has none of (a PDF lesson's frame is Chromium's viewer).
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  expect(bad, `axe on ${where}`).toEqual([]);
}

/** Nothing is wider than the viewport (no sideways scrolling at 360 px). */
export async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(() => {
    const root = (globalThis as unknown as PageGlobals).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  expect(overflow, `horizontal overflow on ${where}`).toBeLessThanOrEqual(0);
}

/**
 * Moves the focus with Tab (only the keyboard) until `target` has it; fails when it is not reachable within
 * `maxPresses`. Journeys then type, press Enter or Space: every step a keyboard user could take. The locator is
 * evaluated again at every step: a re-render (a reload after an action, a keyed list) may replace the node, and a
 * handle kept from before would never match.
 */
export async function tabTo(page: Page, target: Locator, maxPresses = 80): Promise<void> {
  await target.waitFor({ state: "attached" });
  const focused = () => target.evaluate((el) => el === (globalThis as unknown as PageGlobals).document.activeElement);
  for (let i = 0; i < maxPresses; i++) {
    if (await focused()) return;
    await page.keyboard.press("Tab");
  }
  if (await focused()) return;
  throw new Error(`tabTo: ${target} was not reached with ${maxPresses} Tab presses`);
}

/** Tabs to a field and types into it. */
export async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
  await tabTo(page, field);
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type(text);
}

/** Tabs to a button or link and presses Enter on it. */
export async function activate(page: Page, target: Locator): Promise<void> {
  await tabTo(page, target);
  await page.keyboard.press("Enter");
}

/** Gzipped bytes of every script the page loaded so far (what the first page costs a visitor on the wire). */
export async function scriptBytesGzipped(page: Page): Promise<number> {
  const urls = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => e.name)
      .filter((n) => /\.m?js(\?|$)/.test(n)),
  );
  let total = 0;
  for (const url of urls) {
    const res = await page.request.get(url);
    total += gzipSync(await res.body(), { level: 9 }).length;
  }
  return total;
}
