import { afterAll, beforeAll, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp } from "../support/identity.js";
import { ownBroker, probeSubscription, removeDir, scratchDir } from "../support/restartable-services.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

/** Events the app commits while the broker is down. */
const EVENTS_DURING_OUTAGE = 10;
/** The relay's backoff after the few failures of a short outage stays under 8 s; the sweep runs every second. */
const PUBLISH_BOUND_MS = 20_000;
/**
 * The host's receivers come back on host.json clientRetryOptions (exponential from 0.8 s): within a few seconds.
 * The SDK's own default (a fixed 30 s between tries) would exceed this.
 */
const RECONNECT_BOUND_MS = 10_000;

let dir: string;
let db: TestDatabase;
let bus: Awaited<ReturnType<typeof ownBroker>>;
let probe: ReturnType<typeof probeSubscription>;
let app: RunningApp;

beforeAll(async () => {
  dir = await scratchDir("ringlet-faults-bus-");
  [db, bus] = await Promise.all([createTestDatabase(), ownBroker(dir)]);
  app = await startApp({ env: { DATABASE_URL: db.url, ServiceBusConnection: bus.connectionString, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
  probe = probeSubscription(bus.connectionString);
});

afterAll(async () => {
  await app?.stop();
  await probe?.close();
  await bus?.stop();
  await db?.drop();
  await removeDir(dir);
});

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, check, { timeoutMs, diagnostics: () => recentErrors(app) });

const createCourse = async (token: string, title: string) => {
  const res = await call(app, "POST", "/v1/courses", { token, body: { title } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
};
const courseEvent = async (courseId: string) => (await db.sql<{ id: string }[]>`select id from outbox where type = 'course.created' and aggregate_id = ${courseId}`)[0]?.id;
// The `webhooks` subscription takes every event; its inbox row is written in the transaction that handled it.
const handledByWorker = async (eventId: string) => (await db.sql`select 1 from inbox where subscription = 'webhooks' and message_id = ${eventId}`).length > 0;

it("keeps events in the outbox while the broker is down, publishes each once when it is back, and the workers reconnect by themselves", async () => {
  const admin = await signUp(app, db, { admin: true, label: "faults-admin" });
  const before = await courseEvent(await createCourse(admin.accessToken, "Before the outage"));
  await until("an event handled before the outage", async () => ((await handledByWorker(before as string)) && probe.counts.has(before as string) ? true : undefined));

  await bus.stop();
  // Writes do not need the broker: they commit with their events, which wait in the outbox.
  const during: string[] = [];
  for (let i = 0; i < EVENTS_DURING_OUTAGE; i++) during.push((await courseEvent(await createCourse(admin.accessToken, `During the outage ${i}`))) as string);
  const ready = await until("/api/ready naming the broker as down, with the relay's failure", async () => {
    const body = await jsonOf(await fetch(`${app.baseUrl}/api/ready`));
    const outbox = body.outbox as { backlog: number; lastPublishError: string | null } | null;
    return outbox?.lastPublishError ? body : undefined;
  });
  expect(ready).toMatchObject({ status: "not-ready", checks: { serviceBus: { status: "down" }, postgres: { status: "up" } } });
  expect((ready.outbox as { backlog: number }).backlog).toBeGreaterThanOrEqual(EVENTS_DURING_OUTAGE);
  expect(await db.sql`select id from outbox where id in ${db.sql(during)} and published_at is not null`).toEqual([]);
  // A route that needs the broker answers 503, not 500.
  const deadLetters = await call(app, "GET", "/v1/ops/dead-letters?subscription=webhooks", { token: admin.accessToken });
  expect(deadLetters.status).toBe(503);
  expect(deadLetters.headers.get("content-type")).toBe("application/problem+json");
  expect(deadLetters.headers.get("retry-after")).not.toBeNull();

  await bus.start();
  await until("the outbox published once the broker is back", async () => ((await db.sql`select 1 from outbox where published_at is null`).length === 0 ? true : undefined), PUBLISH_BOUND_MS);
  // The workers' receivers reconnected: events published after the restart are handled.
  for (const id of during) await until(`event ${id} handled by the webhooks worker`, async () => ((await handledByWorker(id)) ? true : undefined), RECONNECT_BOUND_MS);
  await until("every event on the probe subscription", async () => ([before as string, ...during].every((id) => probe.counts.has(id)) ? true : undefined));
  const after = await courseEvent(await createCourse(admin.accessToken, "After the outage"));
  await until("an event committed after the restart handled", async () => ((await handledByWorker(after as string)) ? true : undefined));

  // Exactly once per event id on a subscription (the relay's messageId is the event id; the topic drops copies).
  const events = await db.sql<{ id: string }[]>`select id from outbox`;
  expect([...probe.counts].filter(([, n]) => n !== 1)).toEqual([]);
  expect([...probe.counts.keys()].sort()).toEqual(events.map((e) => e.id).sort());
  expect(await jsonOf(await call(app, "GET", "/v1/ops/dead-letters?subscription=webhooks", { token: admin.accessToken }))).toMatchObject({ items: [] });
}, 90_000);
