import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { launchBrowser, screenshotOnFailure } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";

// In Azure the Static Web Apps site serves the web app and the browser calls the function app's API on another
// origin (docs/architecture.md, "The web app"). Here a page on an origin of its own (a bare HTTP server: another
// port, and for the refused case another host name) calls the local runtime's API the way the app's client does,
// with a bearer token, so a real browser's CORS checks (preflight included) decide. The runtime is set up as the
// function app is in Azure: WEB_APP_ENABLED false, so it serves no copy of the web app.

let db: TestDatabase;
let app: RunningApp;
let browser: Browser;
let site: Server;
let allowedOrigin: string;
let refusedOrigin: string;
let user: TestUser;

beforeAll(async () => {
  site = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>Site</title>"));
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const { port } = site.address() as AddressInfo;
  allowedOrigin = `http://127.0.0.1:${port}`;
  // The same server under another host name is another origin, one the app does not list.
  refusedOrigin = `http://localhost:${port}`;
  [{ db, app }, browser] = await Promise.all([startAppOnOwnDatabase({ CORS_ALLOWED_ORIGINS: allowedOrigin, WEB_APP_ENABLED: "false" }), launchBrowser()]);
  user = await signUp(app, db, { label: "cross-origin" });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await stopAppAndDatabase({ app, db });
});

interface Answer {
  status?: number;
  blocked?: string;
}

/** A signed-in GET from a page on `origin` (the Authorization header makes the browser send a preflight first). */
async function signedInGet(page: Page, origin: string, path: string): Promise<Answer> {
  await page.goto(`${origin}/`);
  return page.evaluate(
    async ({ url, token }) => {
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        return { status: res.status };
      } catch (err) {
        return { blocked: String(err) };
      }
    },
    { url: `${app.baseUrl}/api${path}`, token: user.accessToken },
  );
}

describe("the API called from the web app's own origin (Static Web Apps in Azure)", () => {
  it("answers a signed-in call from a listed origin, preflight included", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    screenshotOnFailure(page, "cross-origin-allowed");
    const answer = await signedInGet(page, allowedOrigin, "/v1/me");
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.blocked).toBeUndefined();
    await context.close();
  });

  it("is refused to a page on an origin the app does not list", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    screenshotOnFailure(page, "cross-origin-refused");
    const answer = await signedInGet(page, refusedOrigin, "/v1/me");
    expect(answer.status).toBeUndefined();
    expect(answer.blocked).toMatch(/TypeError|Failed to fetch/);
    await context.close();
  });
});

describe("the function app as set up in Azure (WEB_APP_ENABLED false)", () => {
  it("serves no copy of the web app: only the site does", async () => {
    for (const path of ["/", "/courses", "/index.html", "/assets/"]) {
      const res = await fetch(`${app.baseUrl}${path}`);
      expect(await res.text(), path).not.toContain("ringlet-api-base");
      // The root is the host's own page (as in Azure); nothing else there answers.
      if (path !== "/") expect(res.status, path).toBe(404);
    }
    // The API still answers.
    expect((await fetch(`${app.baseUrl}/api/health`)).status).toBe(200);
  });
});
