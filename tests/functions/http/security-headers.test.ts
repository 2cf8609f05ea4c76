import { HttpRequest } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSecurityHeaders } from "../../../functions/platform/http/security-headers.js";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { fetchDocument, operationsOf } from "../../support/openapi.js";
import { testSettings } from "../../support/settings.js";

// The edge every response passes through (functions/platform/http/route.ts + security-headers.ts + cors.ts):
// security headers, no-store on personal answers, CORS for listed origins only, and the docs switch.

const ALLOWED = "https://app.example.test";

let db: TestDatabase;
let app: RunningApp;
let docsOff: RunningApp;
let user: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  [app, docsOff] = await Promise.all([
    startApp({ env: { DATABASE_URL: db.url, CORS_ALLOWED_ORIGINS: `${ALLOWED},http://localhost:3000` } }),
    startApp({ env: { DATABASE_URL: db.url, API_DOCS_ENABLED: "false" } }),
  ]);
  user = await signUp(app, db, { label: "edge" });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await docsOff?.stop();
  await db?.drop();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.baseUrl}/api${path}`, { headers });

function expectBaseline(res: Response) {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-request-id")).toBeTruthy();
  // Served over plain http here: HSTS would be meaningless and is left out.
  expect(res.headers.get("strict-transport-security")).toBeNull();
}

describe("security headers", () => {
  it("are on a JSON success, without a CSP (JSON is never rendered)", async () => {
    const res = await get("/health");
    expect(res.status).toBe(200);
    expectBaseline(res);
    expect(res.headers.get("content-security-policy")).toBeNull();
  });

  it("are on a problem answer, and an auth answer is never cached", async () => {
    const res = await call(app, "POST", "/v1/auth/login", { body: { email: "nobody@example.test" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expectBaseline(res);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("are on the catch-all 404 and on 405", async () => {
    const missing = await get("/v1/no-such-thing");
    expect(missing.status).toBe(404);
    expect((await jsonOf(missing)).code).toBe("ROUTE_NOT_FOUND");
    expectBaseline(missing);
    const wrongMethod = await fetch(`${app.baseUrl}/api/health`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expectBaseline(wrongMethod);
  });

  it("give the docs page its own CSP, with framing refused", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expectBaseline(res);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const asset = await get("/docs/assets/init.js");
    expect(asset.headers.get("content-security-policy")).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=86400");
  });

  it("mark every answer to a signed-in caller no-store, over a route's weaker private, no-cache; the ETag stays", async () => {
    const me = await call(app, "GET", "/v1/me", { token: user.accessToken });
    expect(me.status).toBe(200);
    expectBaseline(me);
    expect(me.headers.get("cache-control")).toBe("no-store");
    expect(me.headers.get("etag")).toBeTruthy();
    const refused = await call(app, "GET", "/v1/me", { token: "not-a-token" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("cache-control")).toBe("no-store");
    // An anonymous public read keeps the route's own caching.
    expect((await get("/openapi.json")).headers.get("cache-control")).toBe("public, max-age=60");
  });

  it("mark public answers about a person no-store: certificate verification, the erasure cancel link, unsubscribe", async () => {
    const verdict = await get("/v1/certificates/verify/AAAA-BBBB-CCCC");
    expect(verdict.status).toBe(200);
    expect(verdict.headers.get("cache-control")).toBe("no-store");
    const cancel = await call(app, "POST", "/v1/erasure/cancel", { body: { token: "not-a-token" } });
    expect(cancel.status).toBe(400);
    expect(cancel.headers.get("cache-control")).toBe("no-store");
    const page = await get("/v1/unsubscribe?token=forged");
    expect(page.status).toBe(400);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const oneClick = await fetch(`${app.baseUrl}/api/v1/unsubscribe?token=forged`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(400);
    expect(oneClick.headers.get("cache-control")).toBe("no-store");
  });

  it("let caches keep only the answers of these public routes: every other route is declared personal", async () => {
    const doc = await fetchDocument(app);
    const cacheable = operationsOf(doc)
      .filter(({ operation }) => (operation as { "x-personal"?: boolean })["x-personal"] !== true)
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    // A new public route that answers about someone must say `personal: true`; one that does not belongs here.
    // The fees of a published course are the price list (a staff caller's retired fees go with a token: no-store);
    // Stripe's webhook answers nothing about anyone.
    expect(cacheable).toEqual(
      [
        "GET /docs",
        "GET /health",
        "GET /openapi.json",
        "GET /ready",
        "GET /v1/courses",
        "GET /v1/courses/{courseId}",
        "GET /v1/courses/{courseId}/fees",
        "GET /v1/courses/{courseId}/fees/{feeId}",
        "GET /v1/push/public-key",
        "POST /v1/payments/stripe/webhook",
      ].sort(),
    );
  });

  it("send HSTS only for https request URLs: a forged X-Forwarded-Proto does not turn it on", async () => {
    const forged = await get("/health", { "x-forwarded-proto": "https" });
    expect(forged.headers.get("strict-transport-security")).toBeNull();
    // What the host hands the app in Azure: an https:// URL (TLS ends at the front end, which says so).
    const overHttps = withSecurityHeaders(new HttpRequest({ url: "https://ringlet.example/api/health", method: "GET" }), { status: 200, body: "{}" }, false);
    expect(overHttps["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    const overHttp = withSecurityHeaders(new HttpRequest({ url: "http://127.0.0.1/api/health", method: "GET", headers: { "x-forwarded-proto": "https" } }), { status: 200 }, false);
    expect(overHttp["strict-transport-security"]).toBeUndefined();
  });
});

describe("CORS", () => {
  it("echoes a listed origin on an actual request, with the exposed headers", async () => {
    const res = await get("/health", { origin: ALLOWED });
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-expose-headers")).toBe("ETag, Location, Retry-After, X-Request-Id, Link");
    expect(res.headers.get("vary")).toMatch(/\bOrigin\b/);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("grants nothing to an origin that is not listed", async () => {
    const res = await get("/health", { origin: "https://evil.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it("answers a preflight from a listed origin on any route, and refuses others", async () => {
    const preflight = (origin: string, path = "/v1/courses") =>
      fetch(`${app.baseUrl}/api${path}`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
      });
    for (const path of ["/v1/courses", "/v1/courses/0198a0f0-0000-7000-8000-000000000000/enrollments", "/v1/me"]) {
      const ok = await preflight(ALLOWED, path);
      expect(ok.status).toBe(204);
      expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
      const allowedHeaders = (ok.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const h of ["authorization", "content-type", "idempotency-key", "if-match", "if-none-match"]) expect(allowedHeaders).toContain(h);
      expect(Number(ok.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(ok.headers.get("vary")).toMatch(/\bOrigin\b/);
      expect(ok.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const refused = await preflight("https://evil.example");
    expect(refused.status).toBe(204);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("grants nothing to an origin another deployment lists, and nothing at all by default", async () => {
    const res = await fetch(`${docsOff.baseUrl}/api/health`, { headers: { origin: ALLOWED } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(testSettings().CORS_ALLOWED_ORIGINS).toEqual([]);
    expect(testSettings({ CORS_ALLOWED_ORIGINS: "https://a.example, http://localhost:3000" }).CORS_ALLOWED_ORIGINS).toEqual(["https://a.example", "http://localhost:3000"]);
    // An origin is scheme, host and port: a URL with a path or a trailing slash counts as its origin (as written
    // it would never match a browser's Origin); what is not a URL is refused.
    expect(testSettings({ CORS_ALLOWED_ORIGINS: "https://a.example/, https://b.example/app" }).CORS_ALLOWED_ORIGINS).toEqual(["https://a.example", "https://b.example"]);
    expect(() => testSettings({ CORS_ALLOWED_ORIGINS: "a.example" })).toThrow(/CORS_ALLOWED_ORIGINS/);
  });
});

describe("API_DOCS_ENABLED=false", () => {
  it("hides the docs page, its assets and the OpenAPI document", async () => {
    for (const path of ["/docs", "/docs/assets/init.js", "/openapi.json"]) {
      const res = await fetch(`${docsOff.baseUrl}/api${path}`);
      expect(res.status, path).toBe(404);
      expect((await jsonOf(res)).code).toBe("ROUTE_NOT_FOUND");
    }
    expect((await fetch(`${docsOff.baseUrl}/api/health`)).status).toBe(200);
  });
});
