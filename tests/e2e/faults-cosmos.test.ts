import { afterAll, beforeAll, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { ownCosmos } from "../support/restartable-services.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

/** A request that meets the stopped endpoint is answered within this (a refused connection fails at once). */
const REQUEST_BOUND_MS = 5_000;
const STATEMENTS_PER_BATCH = 20;

let db: TestDatabase;
let cosmos: Awaited<ReturnType<typeof ownCosmos>>;
let app: RunningApp;

beforeAll(async () => {
  [db, cosmos] = await Promise.all([createTestDatabase(), ownCosmos()]);
  app = await startApp({ env: { DATABASE_URL: db.url, CosmosConnection: cosmos.connectionString, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
});

afterAll(async () => {
  await app?.stop();
  await cosmos?.stop();
  await db?.drop();
});

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, check, { timeoutMs, diagnostics: () => recentErrors(app) });

interface Stored {
  id: string;
  verb: string;
  source: "client" | "server";
}

async function timeline(learner: TestUser): Promise<Stored[]> {
  const all: Stored[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(app, "GET", `/v1/me/activity?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { token: learner.accessToken });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Stored[]; nextCursor: string | null };
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

it("answers 503 while the Cosmos DB endpoint is down, and loses nothing it had accepted", async () => {
  const admin = await signUp(app, db, { admin: true, label: "faults-admin" });
  const learner = await signUp(app, db, { label: "learner" });
  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Activity outage" } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  const batch = (name: string) =>
    Array.from({ length: STATEMENTS_PER_BATCH }, (_, i) => ({ id: `${name}-${i}`, verb: "viewed", object: { type: "course", id: courseId }, timestamp: new Date(Date.UTC(2026, 10, 20, 10, i)).toISOString() }));
  const ingest = (name: string) => call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements: batch(name) } });

  expect(await jsonOf(await ingest("before"))).toEqual({ accepted: STATEMENTS_PER_BATCH, duplicates: 0 });

  await cosmos.stop();
  const ready = await fetch(`${app.baseUrl}/api/ready`);
  expect(ready.status).toBe(503);
  expect(await jsonOf(ready)).toMatchObject({ checks: { cosmos: { status: "down" }, postgres: { status: "up" } } });
  for (const send of [() => ingest("during"), () => call(app, "GET", "/v1/me/activity", { token: learner.accessToken })]) {
    const started = Date.now();
    const res = await send();
    expect(Date.now() - started).toBeLessThan(REQUEST_BOUND_MS);
    expect(res.status, await res.clone().text()).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  }
  // A server-side event meanwhile (the enrollment): the activity worker cannot append it and retries later.
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
  const heldBack = (line: string) => line.includes('"subscription":"activity"') && line.includes('"dependency":"cosmos"') && line.includes("retried after a pause");
  await until("the activity worker meeting the outage", async () => (app.output().split("\n").some(heldBack) ? true : undefined));

  await cosmos.start();
  // The client retries what was refused; whatever of it was stored before the refusal counts as a duplicate.
  const retried = (await jsonOf(await ingest("during"))) as { accepted: number; duplicates: number };
  expect(retried.accepted + retried.duplicates).toBe(STATEMENTS_PER_BATCH);
  const stored = await until("the enrollment on the timeline", async () => {
    const items = await timeline(learner);
    return items.some((s) => s.source === "server" && s.verb === "enrolled") ? items : undefined;
  });
  const clientIds = stored.filter((s) => s.source === "client").map((s) => s.id);
  expect(clientIds.sort()).toEqual([...batch("before"), ...batch("during")].map((s) => s.id).sort());
  expect(await jsonOf(await call(app, "GET", "/v1/ops/dead-letters?subscription=activity", { token: admin.accessToken }))).toMatchObject({ items: [] });
}, 60_000);
