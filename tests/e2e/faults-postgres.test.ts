import { afterAll, beforeAll, expect, it } from "vitest";
import { CONNECT_TIMEOUT_S } from "../../functions/platform/database.js";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { ownBroker, ownPostgres, probeSubscription, removeDir, type Restartable, scratchDir } from "../support/restartable-services.js";
import type { TestDatabase } from "../support/database.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

/**
 * How long PostgreSQL stays down: the 20 s, halved to keep the file short. Every client meets the outage
 * many times over and the relay backs off four times, which is what a longer outage would show too.
 */
const OUTAGE_MS = 10_000;
/**
 * No request may take longer than this, outage or not. A refused connection fails at once, after the pool's
 * reconnect backoff (at most 1 s); the slowest honest failure is a connection attempt that times out, bounded by
 * the pool's connect timeout. 4 s more covers a loaded machine.
 */
const REQUEST_BOUND_MS = (CONNECT_TIMEOUT_S + 1) * 1000 + 4_000;
/** After PostgreSQL is back, writes succeed again within this (no runtime restart). */
const RECOVERY_BOUND_MS = 20_000;
const CLIENTS = 4;

let dir: string;
let pg: Restartable & { db: TestDatabase };
let bus: Awaited<ReturnType<typeof ownBroker>>;
let probe: ReturnType<typeof probeSubscription>;
let app: RunningApp;

beforeAll(async () => {
  dir = await scratchDir("ringlet-faults-pg-");
  [pg, bus] = await Promise.all([ownPostgres(dir), ownBroker(dir)]);
  app = await startApp({ env: { DATABASE_URL: pg.db.url, ServiceBusConnection: bus.connectionString, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
  probe = probeSubscription(bus.connectionString);
});

afterAll(async () => {
  await app?.stop();
  await probe?.close();
  await bus?.stop();
  await pg?.db.drop();
  await removeDir(dir);
});

interface Outcome {
  kind: "write" | "read";
  status: number;
  ms: number;
  contentType: string | null;
  retryAfter: string | null;
  code: unknown;
  at: number;
  courseId?: string;
}

/** Clients looping over a write (course creation, which records `course.created`) and a read of what they wrote. */
function steadyLoad(admin: TestUser) {
  const outcomes: Outcome[] = [];
  let running = true;
  const timed = async (kind: Outcome["kind"], send: () => Promise<Response>): Promise<Outcome> => {
    const started = Date.now();
    const res = await send();
    const body = res.headers.get("content-type")?.includes("json") ? await jsonOf(res) : (await res.arrayBuffer(), {});
    const outcome: Outcome = {
      kind,
      status: res.status,
      ms: Date.now() - started,
      contentType: res.headers.get("content-type"),
      retryAfter: res.headers.get("retry-after"),
      code: body.code,
      at: started,
      ...(kind === "write" && res.status === 201 ? { courseId: String(body.id) } : {}),
    };
    outcomes.push(outcome);
    return outcome;
  };
  const client = async (n: number) => {
    let lastCourse: string | undefined;
    for (let i = 0; running; i++) {
      const written = await timed("write", () => call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: `Load ${n}-${i}` } }));
      lastCourse = written.courseId ?? lastCourse;
      if (lastCourse) await timed("read", () => call(app, "GET", `/v1/courses/${lastCourse}`, { token: admin.accessToken }));
      // A client that was told to retry later does, a little later.
      if (written.status === 503) await new Promise((r) => setTimeout(r, 100));
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  return {
    outcomes,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, check, { timeoutMs, diagnostics: () => recentErrors(app) });

it("answers 503 with Retry-After while PostgreSQL is down, recovers without a restart, and loses or doubles no event", async () => {
  const admin = await signUp(app, pg.db, { admin: true, label: "faults-admin" });
  const load = steadyLoad(admin);
  const created = () => load.outcomes.filter((o) => o.kind === "write" && o.status === 201);
  await until("writes before the outage", async () => (created().length >= 20 ? true : undefined));

  await pg.stop();
  const down = Date.now();
  const ready = await until("/api/ready naming postgres as down", async () => {
    const res = await fetch(`${app.baseUrl}/api/ready`);
    return res.status === 503 ? { res, body: await jsonOf(res) } : undefined;
  });
  expect(ready.body).toMatchObject({ status: "not-ready", checks: { postgres: { status: "down", error: expect.any(String) }, serviceBus: { status: "up" } } });
  // The outage lasts its planned time under load; that time is the fault, not an assertion.
  await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - down))));
  await pg.start();
  const up = Date.now();
  await until("a write after PostgreSQL is back", async () => (created().some((o) => o.at >= up) ? true : undefined), RECOVERY_BOUND_MS);
  await load.stop();
  await until("/api/ready answering 200 again", async () => ((await fetch(`${app.baseUrl}/api/ready`)).status === 200 ? true : undefined), RECOVERY_BOUND_MS);

  const during = load.outcomes.filter((o) => o.at >= down && o.at < up);
  expect(during.filter((o) => o.status === 503).length, "requests met the outage").toBeGreaterThan(CLIENTS);
  for (const o of load.outcomes) {
    expect([200, 201, 503], JSON.stringify(o)).toContain(o.status);
    expect(o.ms, `${o.kind} answered ${o.status} after ${o.ms} ms`).toBeLessThan(REQUEST_BOUND_MS);
    if (o.status === 503) {
      expect(o.contentType).toBe("application/problem+json");
      expect(o.code).toBe("SERVICE_UNAVAILABLE");
      expect(Number(o.retryAfter)).toBeGreaterThan(0);
    }
  }

  // Every committed event is published exactly once; every course the API said it created has its event.
  const events = await pg.db.sql<{ id: string; aggregate_id: string; created_at: Date }[]>`select id, aggregate_id, created_at from outbox order by id`;
  const before = events.filter((e) => new Date(e.created_at).getTime() < down);
  expect(before.length).toBeGreaterThanOrEqual(20);
  await until("every committed event on the probe subscription", async () => (events.every((e) => probe.counts.has(e.id)) ? true : undefined));
  expect(await pg.db.sql`select id from outbox where published_at is null`).toEqual([]);
  const courseEvents = new Set(events.map((e) => e.aggregate_id));
  for (const o of created()) expect(courseEvents.has(o.courseId as string), `course ${o.courseId} has its event`).toBe(true);
  // Stragglers (a re-sent batch) would arrive right behind the first copies; the relay's next sweep comes within a second.
  await new Promise((r) => setTimeout(r, 1500));
  const doubled = [...probe.counts].filter(([, n]) => n !== 1);
  expect(doubled).toEqual([]);
  const unknown = [...probe.counts.keys()].filter((id) => !events.some((e) => e.id === id));
  expect(unknown).toEqual([]);
  // The workers met the outage too: they paused and retried rather than spend their deliveries, so every event
  // reaches the `webhooks` worker (it takes them all) and nothing is dead-lettered.
  await until("every event handled by the webhooks worker", async () => {
    const [row] = await pg.db.sql<{ missing: number }[]>`select count(*)::int as missing from outbox o where not exists (select 1 from inbox i where i.subscription = 'webhooks' and i.message_id = o.id::text)`;
    return row?.missing === 0 ? true : undefined;
  });
  expect(await jsonOf(await call(app, "GET", "/v1/ops/dead-letters", { token: admin.accessToken }))).toMatchObject({ items: [] });
}, 90_000);
