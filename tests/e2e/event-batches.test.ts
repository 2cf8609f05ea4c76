import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient, type ServiceBusMessage } from "@azure/service-bus";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@ringlet/local-runtime/ports";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Subscriptions take messages in batches (cardinality many). These tests hold the batch path to the same
// promises as one message at a time: a poison message leaves on its own, a redelivered batch changes nothing
// twice, and a runtime killed mid-batch loses nothing and doubles nothing.

let receiver: Server;
let receiverUrl: string;
/** Event ids as the webhook receiver saw them, in order (duplicates kept). */
const received: string[] = [];
let delayMs = 0;

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let busDir: string;
let connection: string;

const start = () =>
  startApp({
    env: {
      DATABASE_URL: db.url,
      ServiceBusConnection: connection,
      LOCAL_SERVICEBUS_DATA: busDir,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_RETRY_SCHEDULE: "*/1 * * * * *",
    },
  });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      setTimeout(() => {
        received.push(String(req.headers["ringlet-event-id"]));
        res.writeHead(204).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;
  db = await createTestDatabase();
  busDir = await mkdtemp(join(tmpdir(), "ringlet-batches-"));
  await chmod(busDir, 0o755);
  connection = `Endpoint=sb://127.0.0.1:${await freePort()};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  app = await start();
  admin = await signUp(app, db, { admin: true, label: "admin" });
  const hook = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: receiverUrl, eventTypes: ["lesson.completed"] } });
  expect(hook.status, await hook.clone().text()).toBe(201);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await new Promise((r) => receiver?.close(r));
  if (busDir) await rm(busDir, { recursive: true, force: true });
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

/** A valid `lesson.completed` envelope (for a course nobody is enrolled in: only the webhook reacts visibly). */
function lessonCompleted(): { id: string; message: ServiceBusMessage } {
  const id = uuidv7();
  const data = { lessonId: uuidv7(), courseId: uuidv7(), userId: uuidv7(), completedAt: new Date().toISOString() };
  const body = { id, type: "lesson.completed", occurredAt: new Date().toISOString(), actor: { userId: null }, data, traceparent: null };
  return { id, message: { messageId: id, subject: "lesson.completed", contentType: "application/json", body } };
}

async function send(messages: ServiceBusMessage[]): Promise<void> {
  const client = new ServiceBusClient(connection);
  try {
    const sender = client.createSender("lms-events");
    // One AMQP batch: the broker fans them out together, so the subscription receives them as one batch.
    const batch = await sender.createMessageBatch();
    for (const m of messages) if (!batch.tryAddMessage(m)) throw new Error("batch too small for the test");
    await sender.sendMessages(batch);
  } finally {
    await client.close();
  }
}

const deliveriesOf = async (ids: string[]) =>
  new Map(
    (await db.sql<{ event_id: string; n: number; status: string }[]>`
      select event_id, count(*)::int as n, max(status) as status from webhook_deliveries where event_id in ${db.sql(ids)} group by event_id`).map((r) => [r.event_id, r]),
  );

const inboxCount = async (ids: string[]) =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from inbox where subscription = 'webhooks' and message_id in ${db.sql(ids)}`)[0]?.n;

async function deadLetters(): Promise<{ messageId: string; deadLetterReason: string | null; appReason: string | null }[]> {
  const list = await jsonOf(await call(app, "GET", "/v1/ops/dead-letters?subscription=webhooks&limit=100", { token: admin.accessToken }));
  return list.items as { messageId: string; deadLetterReason: string | null; appReason: string | null }[];
}

describe("subscription batches", () => {
  it("dead-letters a poison message on its own and handles its neighbours once", async () => {
    const good = Array.from({ length: 8 }, lessonCompleted);
    const poisonId = `poison-${uuidv7()}`;
    const poison: ServiceBusMessage = { messageId: poisonId, subject: "lesson.completed", contentType: "application/json", body: { id: "not-a-uuid", type: "lesson.completed" } };
    await send([...good.slice(0, 4).map((g) => g.message), poison, ...good.slice(4).map((g) => g.message)]);

    const ids = good.map((g) => g.id);
    await until("every good event delivered", async () => ((await deliveriesOf(ids)).size === ids.length && ids.every((id) => received.includes(id)) ? true : undefined));
    const dead = await until("the poison message in the dead letters", async () => (await deadLetters()).find((d) => d.messageId === poisonId));
    expect(dead.deadLetterReason).toBe("PoisonMessage");
    expect(dead.appReason).toMatch(/not an event envelope/);
    // The neighbours went through once: no redelivery, no dead letter, one inbox row and one delivery each.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await deadLetters()).filter((d) => ids.includes(d.messageId))).toEqual([]);
    expect(await inboxCount(ids)).toBe(ids.length);
    for (const [, row] of await deliveriesOf(ids)) expect(row).toMatchObject({ n: 1, status: "succeeded" });
    for (const id of ids) expect(received.filter((r) => r === id)).toHaveLength(1);
  });

  it("dead-letters an envelope whose type names an inherited property (not a catalog entry) as poison", async () => {
    const inherited = lessonCompleted();
    await send([{ ...inherited.message, body: { ...(inherited.message.body as object), type: "constructor" } }]);
    const dead = await until("the message in the dead letters", async () => (await deadLetters()).find((d) => d.messageId === inherited.id));
    expect(dead).toMatchObject({ deadLetterReason: "PoisonMessage", appReason: expect.stringMatching(/unknown event type constructor/) });
  });

  it("retries a batch whose one event fails, without a second effect for the events that were handled", async () => {
    const events = Array.from({ length: 6 }, lessonCompleted);
    const failing = events[2]?.id as string;
    // A real fault for one event only: planning its delivery raises until the trigger is dropped.
    await db.sql.unsafe(`
      create or replace function fail_one_delivery() returns trigger language plpgsql as $$
      begin if new.event_id = '${failing}' then raise exception 'injected fault for %', new.event_id; end if; return new; end $$;
      create trigger fail_one_delivery before insert on webhook_deliveries for each row execute function fail_one_delivery();`);
    try {
      await send(events.map((e) => e.message));
      const others = events.map((e) => e.id).filter((id) => id !== failing);
      await until("the other events delivered", async () => ((await deliveriesOf(others)).size === others.length ? true : undefined));
      // Let the batch be abandoned and redelivered at least once while the fault is in place.
      await until("a redelivery of the failing event", async () => (/injected fault/.test(app.output()) && app.output().split("injected fault").length > 3 ? true : undefined));
    } finally {
      await db.sql`drop trigger fail_one_delivery on webhook_deliveries`;
    }
    const ids = events.map((e) => e.id);
    await until("the failing event delivered once the fault is gone", async () => ((await deliveriesOf([failing])).get(failing)?.status === "succeeded" ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await inboxCount(ids)).toBe(ids.length);
    for (const [, row] of await deliveriesOf(ids)) expect(row.n).toBe(1);
    for (const id of ids) expect(received.filter((r) => r === id)).toHaveLength(1);
    expect((await deadLetters()).filter((d) => ids.includes(d.messageId))).toEqual([]);
  }, 60_000);

  it("loses nothing and doubles nothing when the runtime is killed mid-batch", async () => {
    // Slow webhook answers keep the runtime inside its batches when it is killed.
    delayMs = 200;
    const events = Array.from({ length: 150 }, lessonCompleted);
    const ids = events.map((e) => e.id);
    await send(events.slice(0, 75).map((e) => e.message));
    await send(events.slice(75).map((e) => e.message));
    await until("some deliveries under way", async () => ((await deliveriesOf(ids)).size > 0 ? true : undefined));
    app.process.kill("SIGKILL");
    await app.stop();
    delayMs = 0;
    app = await start();
    await until(
      "every event delivered after the restart",
      async () => {
        const rows = await deliveriesOf(ids);
        return rows.size === ids.length && [...rows.values()].every((r) => r.status === "succeeded") ? true : undefined;
      },
      60_000,
    );
    expect(await inboxCount(ids)).toBe(ids.length);
    for (const [, row] of await deliveriesOf(ids)) expect(row.n).toBe(1);
    // Every event reached the receiver; one sent just before the kill may be sent again (webhooks are at least once).
    for (const id of ids) expect(received.filter((r) => r === id).length).toBeGreaterThanOrEqual(1);
    expect((await deadLetters()).filter((d) => ids.includes(d.messageId))).toEqual([]);
  }, 120_000);
});
