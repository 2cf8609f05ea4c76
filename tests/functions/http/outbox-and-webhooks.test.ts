import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@ringlet/local-runtime/ports";
import { isPrivateAddress } from "../../../functions/platform/webhook-sender.js";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp } from "../../support/identity.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("when Service Bus cannot be reached", () => {
  let app: RunningApp;
  beforeAll(async () => {
    // Not an emulator endpoint: the runtime starts no broker, and nothing listens there.
    const closed = await freePort();
    app = await startApp({
      env: { DATABASE_URL: db.url, ServiceBusConnection: `Endpoint=sb://127.0.0.1:${closed};SharedAccessKeyName=k;SharedAccessKey=v`, READY_CHECK_TIMEOUT_MS: "1500" },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("still commits the change, keeps the event, backs off, and shows the backlog", async () => {
    const admin = await signUp(app, db, { admin: true });
    const res = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Offline" } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [event] = await db.sql`select published_at from outbox where course_id = ${id} and type = 'course.created'`;
    expect(event?.published_at).toBeNull();
    const ops = await jsonOf(await call(app, "GET", "/v1/ops/outbox", { token: admin.accessToken }));
    expect(ops.backlog as number).toBeGreaterThan(0);
    expect(ops.lastPublishError).toEqual(expect.any(String));
    expect(ops.publishPausedUntil).toEqual(expect.any(String));
    const ready = await call(app, "GET", "/ready");
    expect(ready.status).toBe(503);
    expect(await jsonOf(ready)).toMatchObject({ checks: { serviceBus: { status: "down" }, postgres: { status: "up" } }, outbox: { backlog: expect.any(Number) } });
  });
});

describe("webhook endpoints", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ env: { DATABASE_URL: db.url, WEBHOOKS_ALLOW_PRIVATE_TARGETS: "false" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses private, loopback and link-local targets and plain http outside development", async () => {
    const admin = await signUp(app, db, { admin: true });
    for (const url of ["https://127.0.0.1/hook", "https://10.1.2.3/x", "https://169.254.169.254/latest", "https://[::1]/x", "http://example.com/x", "https://localhost/x"]) {
      const res = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url } });
      expect([400, 422], url).toContain(res.status);
      expect((await jsonOf(res)).code, url).toMatch(/WEBHOOK_URL_FORBIDDEN|VALIDATION_FAILED/);
    }
    const unknownType = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: "https://203.0.113.10/x", eventTypes: ["nope.happened"] } });
    expect(unknownType.status).toBe(400);
  });

  it("registers a public endpoint with a secret shown once", async () => {
    const admin = await signUp(app, db, { admin: true });
    const res = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: "https://203.0.113.10/hook", eventTypes: ["enrollment.created"] } });
    expect(res.status).toBe(201);
    const hook = await jsonOf(res);
    expect(hook.secret).toMatch(/^whsec_/);
    const list = (await jsonOf(await call(app, "GET", "/v1/webhooks", { token: admin.accessToken }))) as { items: Record<string, unknown>[] };
    expect(list.items.find((w) => w.id === hook.id)).not.toHaveProperty("secret");
  });

  it("checks a changed URL as on registration and keeps the old one when it is refused", async () => {
    const admin = await signUp(app, db, { admin: true });
    const created = await jsonOf(await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: "https://203.0.113.10/hook" } }));
    for (const url of ["https://10.1.2.3/x", "https://169.254.169.254/latest", "https://[::1]/x", "http://example.com/x", "https://localhost/x"]) {
      const res = await call(app, "PATCH", `/v1/webhooks/${created.id as string}`, { token: admin.accessToken, body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.headers.get("content-type"), url).toContain("application/problem+json");
      expect((await jsonOf(res)).code, url).toBe("WEBHOOK_URL_FORBIDDEN");
    }
    const unchanged = await jsonOf(await call(app, "GET", `/v1/webhooks/${created.id as string}`, { token: admin.accessToken }));
    expect(unchanged.url).toBe("https://203.0.113.10/hook");
    const moved = await call(app, "PATCH", `/v1/webhooks/${created.id as string}`, { token: admin.accessToken, body: { url: "https://203.0.113.11/hook" } });
    expect(moved.status).toBe(200);
    expect((await jsonOf(moved)).url).toBe("https://203.0.113.11/hook");
  });
});

describe("private address detection", () => {
  it("knows loopback, private, link-local, CGNAT and ULA ranges", () => {
    for (const a of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["203.0.113.10", "8.8.8.8", "172.32.0.1", "2001:db8::1"]) expect(isPrivateAddress(a), a).toBe(false);
  });
});
