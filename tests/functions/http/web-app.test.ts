import { readFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { BlobSASPermissions, BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { CACHE_IMMUTABLE, CACHE_REVALIDATE, WEB_APP_HEADERS, webAppCsp } from "../../../functions/platform/http/web-app-headers.js";
import { repoRoot, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../../support/app.js";
import type { TestDatabase } from "../../support/database.js";

// The static-files function (functions/http/web-app.ts) serving a fake build: caching, revalidation, compression,
// security headers, refused traversal; the API beside it keeps its URLs and its problem answers.

const INDEX = `<!doctype html><html lang="en"><head><title>Ringlet</title><script type="module" src="/assets/app-abc123.js"></script></head><body>${"<p>padding</p>".repeat(80)}</body></html>`;
const SCRIPT = `export const greeting = "hello";\n${"console.log(greeting);\n".repeat(200)}`;
const SECRET = "not-for-the-web";

let dir: string;
let started: { db?: TestDatabase; app?: RunningApp } = {};
let app: RunningApp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ringlet-web-"));
  const build = join(dir, "build");
  await mkdir(join(build, "assets"), { recursive: true });
  await writeFile(join(build, "index.html"), INDEX);
  await writeFile(join(build, "assets", "app-abc123.js"), SCRIPT);
  await writeFile(join(build, "favicon.ico"), Buffer.from([0, 0, 1, 0, 1, 0]));
  await writeFile(join(build, "staticwebapp.config.json"), "{}");
  // Beside the build, not in it: no path may reach it.
  await writeFile(join(dir, "secret.txt"), SECRET);
  started = await startAppOnOwnDatabase({ WEB_APP_DIR: build });
  app = started.app as RunningApp;
}, 60_000);

afterAll(async () => {
  await stopAppAndDatabase(started);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${app.baseUrl}${path}`, { method, headers });

/** A request whose path is sent exactly as written (fetch would normalise dot segments and backslashes). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(app.baseUrl);
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function expectWebAppHeaders(res: Response) {
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:\d+/);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBeTruthy();
  expect(res.headers.get("permissions-policy")).toContain("camera=()");
}

describe("the web app at the root", () => {
  it("answers / and client-side routes with the index, revalidated on every load, under the CSP", async () => {
    for (const path of ["/", "/courses/x", "/index.html"]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expectWebAppHeaders(res);
      expect(await res.text()).toBe(INDEX);
    }
  });

  it("answers a hashed asset as immutable, with its type", async () => {
    const res = await get("/assets/app-abc123.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expectWebAppHeaders(res);
    expect(await res.text()).toBe(SCRIPT);
  });

  it("answers other files with a short cache", async () => {
    const res = await get("/favicon.ico");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/x-icon");
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
  });

  it("answers 304 when If-None-Match names the current ETag", async () => {
    const first = await get("/assets/app-abc123.js", { "accept-encoding": "identity" });
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get("/assets/app-abc123.js", { "if-none-match": etag, "accept-encoding": "identity" });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // A tag of the compressed copy names the same content.
    const br = await get("/assets/app-abc123.js", { "accept-encoding": "br" });
    expect((await get("/", { "if-none-match": `W/${etag}` })).status).toBe(200);
    expect((await get("/assets/app-abc123.js", { "if-none-match": br.headers.get("etag") as string })).status).toBe(304);
  });

  it("compresses by Accept-Encoding: br first, else gzip, else none, varying on it", async () => {
    const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());
    // fetch decodes what it asked for; node:http does not, so read the encoded bytes with it.
    const raw = (encoding: string) =>
      new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
        const url = new URL(app.baseUrl);
        const req = httpRequest({ host: url.hostname, port: url.port, path: "/assets/app-abc123.js", headers: { "accept-encoding": encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", reject);
        req.end();
      });
    const br = await raw("gzip, deflate, br");
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    const gz = await raw("gzip");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    expect(gz.headers.etag).not.toBe(br.headers.etag);
    const none = await raw("br;q=0, gzip;q=0");
    expect(none.headers["content-encoding"]).toBeUndefined();
    expect(none.body.toString()).toBe(SCRIPT);
    expect(await bytes(await get("/assets/app-abc123.js"))).toEqual(Buffer.from(SCRIPT));
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await get("/assets/app-abc123.js", { "accept-encoding": "identity" }, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(SCRIPT)));
    expect(await res.text()).toBe("");
  });

  it("refuses path traversal and never answers a file outside the build", async () => {
    const attempts = [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/..\\secret.txt",
      "/secret.txt%00.js",
      `/${encodeURIComponent(join(dir, "secret.txt"))}`,
      `/${join(dir, "secret.txt")}`,
    ];
    for (const path of attempts) {
      const res = await rawGet(path);
      expect([400, 404], `${path} answered ${res.status}`).toContain(res.status);
      expect(res.body).not.toContain(SECRET);
    }
  });

  it("answers 404 for a missing asset or a missing file with an extension", async () => {
    for (const path of ["/assets/app-missing.js", "/assets/nothing", "/robots.txt", "/staticwebapp.config.json"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expectWebAppHeaders(res);
    }
  });
});

describe("the API beside it", () => {
  it("still answers a real route", async () => {
    expect((await get("/api/health")).status).toBe(200);
  });

  it("answers unknown API paths and wrong methods with problem+json, HEAD included", async () => {
    const missing = await get("/api/v1/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(((await missing.json()) as { code: string }).code).toBe("ROUTE_NOT_FOUND");
    const wrongMethod = await get("/api/health", {}, "PUT");
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { code: string }).code).toBe("METHOD_NOT_ALLOWED");
    expect((await get("/api/v1/nope", {}, "HEAD")).status).toBe(404);
    expect((await get("/api", {}, "GET")).status).toBe(404);
  });
});

describe("Blob CORS for the browser", () => {
  it("lets the app's origin preflight a PUT to an upload SAS URL", async () => {
    const blob = BlobServiceClient.fromConnectionString(inject("storageConnectionString"));
    const sasUrl = await blob
      .getContainerClient("course-files")
      .getBlobClient("web-app-test/upload.bin")
      .generateSasUrl({ permissions: BlobSASPermissions.parse("c"), expiresOn: new Date(Date.now() + 60_000) });
    const res = await fetch(sasUrl, {
      method: "OPTIONS",
      headers: { origin: app.baseUrl, "access-control-request-method": "PUT", "access-control-request-headers": "x-ms-blob-type,content-type" },
    });
    expect(res.status).toBe(200);
    expect(["*", app.baseUrl]).toContain(res.headers.get("access-control-allow-origin"));
    expect(res.headers.get("access-control-allow-methods") ?? "").toMatch(/PUT/);
  });
});

describe("web/public/staticwebapp.config.json (Azure Static Web Apps)", () => {
  interface Route {
    route: string;
    headers?: Record<string, string>;
  }
  const config = JSON.parse(readFileSync(join(repoRoot, "web", "public", "staticwebapp.config.json"), "utf8")) as {
    navigationFallback: { rewrite: string; exclude: string[] };
    routes: Route[];
    globalHeaders?: unknown;
  };
  const routeOf = (path: string) => config.routes.find((r) => r.route === path) as Route;

  it("falls back to the index for client-side routes, not for assets or the API", () => {
    expect(config.navigationFallback.rewrite).toBe("/index.html");
    expect(config.navigationFallback.exclude).toEqual(expect.arrayContaining(["/assets/*", "/api/*"]));
  });

  it("sends the function's headers and caching, the Blob and API origins left for the deploy workflow to fill in", () => {
    const lower = (headers: Record<string, string> = {}) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [path, cache] of [["/assets/*", CACHE_IMMUTABLE], ["/*", CACHE_REVALIDATE]] as const) {
      const headers = lower(routeOf(path).headers);
      expect(headers["cache-control"], path).toBe(cache);
      expect(headers["content-security-policy"], path).toBe(webAppCsp("__BLOB_ORIGIN__", "__API_ORIGIN__"));
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["referrer-policy"]).toBe("no-referrer");
      for (const [name, value] of Object.entries(WEB_APP_HEADERS)) expect(headers[name], name).toBe(value);
    }
  });

  it("has no API: no /api route (no linked backend; the app calls the function app), and no global headers", () => {
    expect(config.routes.map((r) => r.route)).not.toContain("/api/*");
    expect(config.globalHeaders).toBeUndefined();
  });
});
