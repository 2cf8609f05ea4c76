import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp } from "../../support/identity.js";
import { freePort } from "@ringlet/local-runtime/ports";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("health and readiness", () => {
  it("answers /api/health with 200", async () => {
    const res = await fetch(`${app.baseUrl}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("reports each dependency with its status and latency", async () => {
    const res = await fetch(`${app.baseUrl}/api/ready`);
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body).toMatchObject({
      status: "ready",
      checks: {
        postgres: { status: "up", latencyMs: expect.any(Number) },
        blob: { status: "up", latencyMs: expect.any(Number) },
        serviceBus: { status: "up", latencyMs: expect.any(Number) },
      },
      outbox: { backlog: expect.any(Number), oldestAgeSeconds: expect.toBeOneOf([null, expect.any(Number)]) },
    });
  });

  it("answers 503 naming the dependency that is down", async () => {
    const closed = await freePort();
    const broken = await startApp({
      env: {
        DATABASE_URL: db.url,
        BlobStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${closed}/devstoreaccount1;`,
        READY_CHECK_TIMEOUT_MS: "1500",
      },
    });
    try {
      const res = await fetch(`${broken.baseUrl}/api/ready`);
      expect(res.status).toBe(503);
      const body = await jsonOf(res);
      expect(body).toMatchObject({ status: "not-ready", checks: { postgres: { status: "up" }, blob: { status: "down", error: expect.any(String) } } });
    } finally {
      await broken.stop();
    }
  });
});

describe("OpenAPI and docs", () => {
  it("serves an OpenAPI 3.1 document describing the routes and the problem schema", async () => {
    const res = await fetch(`${app.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/health"]?.get?.operationId).toBe("system-health");
    expect(doc.paths["/ready"]?.get?.operationId).toBe("system-ready");
    expect(doc.paths["/v1/ops/outbox"]?.get?.operationId).toBe("ops-outbox-get");
    expect(Object.keys(doc.paths).some((p) => p.includes("{*"))).toBe(false);
    expect(doc.components.schemas).toHaveProperty("Problem");
  });

  it("documents every declared route, with its access policy", async () => {
    const admin = await signUp(app, db, { label: "docs-admin", admin: true });
    const routes = (await jsonOf(await call(app, "GET", "/v1/ops/routes", { token: admin.accessToken }))) as {
      items: { name: string; method: string; path: string; hidden: boolean }[];
    };
    const doc = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string; "x-access": unknown }>> };
    const missing = routes.items
      .filter((r) => !r.hidden)
      .filter((r) => doc.paths[r.path.replace(/^\/api/, "")]?.[r.method.toLowerCase()]?.operationId !== r.name)
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    expect(routes.items.filter((r) => !r.hidden).length).toBeGreaterThan(40);
    for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) expect(op["x-access"]).toBeDefined();
  });

  it("renders the docs page from local assets only", async () => {
    const res = await fetch(`${app.baseUrl}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      const asset = await fetch(new URL(ref, `${app.baseUrl}/api/docs`));
      expect(asset.status, ref).toBe(200);
    }
    const init = await (await fetch(`${app.baseUrl}/api/docs/assets/init.js`)).text();
    expect(init).toContain('url: "openapi.json"');
    expect((await fetch(`${app.baseUrl}/api/docs/assets/..%2Fpackage.json`)).status).toBe(400);
  });
});

describe("operations", () => {
  it("reports the outbox backlog and the age of its oldest row to admins", async () => {
    const admin = await signUp(app, db, { label: "admin", admin: true });
    await db.sql`update outbox set published_at = now()`;
    const empty = await jsonOf(await call(app, "GET", "/v1/ops/outbox", { token: admin.accessToken }));
    expect(empty).toMatchObject({ backlog: 0, oldestCreatedAt: null, oldestAgeSeconds: null });
    await db.sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, data, created_at)
      values (gen_random_uuid(), 'test.happened', 'test', '1', now(), '{}', now() - interval '90 seconds')`;
    const body = await jsonOf(await call(app, "GET", "/v1/ops/outbox", { token: admin.accessToken }));
    expect(body.backlog).toBe(1);
    expect(body.oldestAgeSeconds as number).toBeGreaterThanOrEqual(89);
  });
});
