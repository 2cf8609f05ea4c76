import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { recentErrors, waitFor } from "../../support/wait-for.js";

/** A receiver on loopback: each webhook posts to its own path, answered with the status set for that path. */
interface Received {
  path: string;
  eventId: string;
  signature: string;
  body: string;
}
let receiver: Server;
let receiverBase: string;
const received: Received[] = [];
const answers = new Map<string, number>();

const k1 = `k1:${Buffer.alloc(32, 11).toString("base64")}`;
const k2 = `k2:${Buffer.alloc(32, 22).toString("base64")}`;

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

// Failures in a row and the span they must cover before an endpoint is disabled: three, over an hour (the
// test moves the start of a run back in the database rather than waiting). Retries are an hour away, so every
// attempt is one the test makes.
const startRinglet = (keys: string) =>
  startApp({
    env: {
      DATABASE_URL: db.url,
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_RETRY_BASE_S: "3600",
      WEBHOOK_DISABLE_AFTER_FAILURES: "3",
      WEBHOOK_DISABLE_FAILING_FOR_S: "3600",
      WEBHOOK_SECRET_KEYS: keys,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
    },
  });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, eventId: String(req.headers["ringlet-event-id"]), signature: String(req.headers["ringlet-signature"]), body });
      res.writeHead(answers.get(path) ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverBase = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  db = await createTestDatabase();
  app = await startRinglet(k1);
  admin = await signUp(app, db, { admin: true, label: "hook-owner" });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

async function register(path: string, eventTypes = ["course.created"]): Promise<{ id: string; secret: string }> {
  const res = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: `${receiverBase}${path}`, eventTypes, description: path } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; secret: string };
}

/** A course.created event; resolves once the witness endpoint got it, so every endpoint's delivery is planned. */
async function courseCreatedSeenBy(witnessPath: string): Promise<string> {
  const res = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Hooks" } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const event = await until("the course.created event", async () => (await db.sql<{ id: string }[]>`select id from outbox where type = 'course.created' and aggregate_id = ${id}`)[0]);
  await until(`delivery to ${witnessPath}`, async () => received.find((r) => r.path === witnessPath && r.eventId === event.id));
  return event.id;
}

const getHook = async (id: string) => jsonOf(await call(app, "GET", `/v1/webhooks/${id}`, { token: admin.accessToken }));
const deliveriesOf = async (id: string) =>
  ((await jsonOf(await call(app, "GET", `/v1/webhooks/${id}/deliveries`, { token: admin.accessToken }))) as { items: { id: string; eventId: string; status: string; lastError: string | null }[] }).items;

function verify(signature: string, body: string, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature);
  return m !== null && createHmac("sha256", secret).update(`${m[1]}.${body}`).digest("hex") === m[2];
}

describe("PATCH /v1/webhooks/{id}", () => {
  it("changes each field, bumps the ETag, and refuses a stale If-Match", async () => {
    const hook = await register("/patch");
    const read = await call(app, "GET", `/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    const etag = read.headers.get("etag") as string;
    expect(await jsonOf(read)).toMatchObject({ active: true, consecutiveFailures: 0, failingSince: null, disabledReason: null, createdByUserId: admin.id });
    expect((await call(app, "GET", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, headers: { "if-none-match": etag } })).status).toBe(304);

    const changed = await call(app, "PATCH", `/v1/webhooks/${hook.id}`, {
      token: admin.accessToken,
      headers: { "if-match": etag },
      body: { description: "billing system", eventTypes: ["enrollment.created", "course.created", "enrollment.created"], url: `${receiverBase}/patch-moved` },
    });
    expect(changed.status).toBe(200);
    expect(await jsonOf(changed)).toMatchObject({ description: "billing system", eventTypes: ["course.created", "enrollment.created"], url: `${receiverBase}/patch-moved` });
    expect(changed.headers.get("etag")).not.toBe(etag);

    const stale = await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, headers: { "if-match": etag }, body: { description: "lost update" } });
    expect(stale.status).toBe(412);
    expect((await jsonOf(stale)).code).toBe("PRECONDITION_FAILED");
    expect((await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, headers: { "if-match": '"v1.s0"' }, body: { active: false } })).status).toBe(412);

    const off = await jsonOf(await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body: { active: false } }));
    expect(off).toMatchObject({ active: false, disabledReason: "admin", disabledAt: expect.any(String) });
    const on = await jsonOf(await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body: { active: true } }));
    expect(on).toMatchObject({ active: true, disabledReason: null, disabledAt: null });
    const audit = await db.sql`select action, details from audit_log where target_id = ${hook.id} order by id`;
    expect(audit.map((a) => a.action)).toEqual(["webhook.registered", "webhook.updated", "webhook.updated", "webhook.updated"]);
    expect(audit[1]?.details).toMatchObject({ fields: ["url", "eventTypes", "description"], url: { from: `${receiverBase}/patch`, to: `${receiverBase}/patch-moved` } });
  });

  it("answers bad input with a 4xx problem and changes nothing", async () => {
    const hook = await register("/patch-bad");
    for (const body of [{ eventTypes: ["nope.happened"] }, { url: "ftp://example.com/x" }, { url: "not a url" }, { active: "yes" }, { secret: "whsec_mine" }]) {
      const res = await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await jsonOf(res)).code).toBe("VALIDATION_FAILED");
    }
    expect(await getHook(hook.id)).toMatchObject({ url: `${receiverBase}/patch-bad`, eventTypes: ["course.created"], active: true });
    expect((await call(app, "PATCH", `/v1/webhooks/${randomUUID()}`, { token: admin.accessToken, body: { active: false } })).status).toBe(404);
    expect((await call(app, "PATCH", "/v1/webhooks/not-an-id", { token: admin.accessToken, body: { active: false } })).status).toBe(400);
  });

  it("cancels a disabled endpoint's pending deliveries and plans none for it while it is off", async () => {
    const witness = await register("/witness-disable");
    const hook = await register("/disable");
    answers.set("/disable", 500);
    const first = await courseCreatedSeenBy("/witness-disable");
    await until("the failed first attempt", async () => ((await deliveriesOf(hook.id)).find((d) => d.eventId === first && d.lastError) ? true : undefined));
    expect((await deliveriesOf(hook.id)).find((d) => d.eventId === first)?.status).toBe("pending");

    expect((await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body: { active: false } })).status).toBe(200);
    expect((await deliveriesOf(hook.id)).find((d) => d.eventId === first)).toMatchObject({ status: "cancelled", lastError: "the endpoint was disabled" });
    const replay = await call(app, "POST", `/v1/webhooks/${hook.id}/deliveries/${(await deliveriesOf(hook.id))[0]?.id}/replay`, { token: admin.accessToken });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).code).toBe("WEBHOOK_INACTIVE");

    const second = await courseCreatedSeenBy("/witness-disable");
    expect((await deliveriesOf(hook.id)).map((d) => d.eventId)).not.toContain(second);
    expect(received.filter((r) => r.path === "/disable" && r.eventId === second)).toEqual([]);
    expect((await deliveriesOf(witness.id)).map((d) => d.eventId)).toContain(second);
  });
});

describe("DELETE /v1/webhooks/{id}", () => {
  it("stops deliveries at once and keeps the delivery log readable", async () => {
    await register("/witness-delete");
    const hook = await register("/delete");
    const before = await courseCreatedSeenBy("/witness-delete");
    await until("the delivery before deletion", async () => received.find((r) => r.path === "/delete" && r.eventId === before));

    const res = await call(app, "DELETE", `/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    expect(res.status).toBe(204);
    expect((await call(app, "GET", `/v1/webhooks/${hook.id}`, { token: admin.accessToken })).status).toBe(404);
    expect((await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body: { active: true } })).status).toBe(404);
    expect((await call(app, "DELETE", `/v1/webhooks/${hook.id}`, { token: admin.accessToken })).status).toBe(404);
    const list = (await jsonOf(await call(app, "GET", "/v1/webhooks?limit=100", { token: admin.accessToken }))) as { items: { id: string }[] };
    expect(list.items.map((w) => w.id)).not.toContain(hook.id);

    const after = await courseCreatedSeenBy("/witness-delete");
    const log = await deliveriesOf(hook.id);
    expect(log.map((d) => d.eventId)).toEqual([before]);
    expect(log[0]?.status).toBe("succeeded");
    expect(received.filter((r) => r.path === "/delete" && r.eventId === after)).toEqual([]);
    expect((await db.sql`select action from audit_log where target_id = ${hook.id} and action = 'webhook.deleted'`).length).toBe(1);
  });
});

describe("automatic disabling", () => {
  it("disables an endpoint after enough failures over long enough, audits it and emails its owner; a success or enabling resets the run", async () => {
    const owner = await signUp(app, db, { admin: true, label: "auto-owner" });
    const res = await call(app, "POST", "/v1/webhooks", { token: owner.accessToken, body: { url: `${receiverBase}/auto`, eventTypes: ["course.created"], description: "Flaky CRM" } });
    const hook = (await res.json()) as { id: string };
    await register("/witness-auto");
    answers.set("/auto", 500);
    const event = await courseCreatedSeenBy("/witness-auto");
    const delivery = await until("the first failed attempt", async () => (await deliveriesOf(hook.id)).find((d) => d.eventId === event && d.lastError));
    const replay = async () => jsonOf(await call(app, "POST", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/replay`, { token: admin.accessToken }));

    // Three failures in a row, but within the hour: still active.
    await replay();
    await replay();
    expect(await getHook(hook.id)).toMatchObject({ active: true, consecutiveFailures: 3, failingSince: expect.any(String) });

    // A success ends the run.
    answers.set("/auto", 200);
    expect(await replay()).toMatchObject({ status: "succeeded" });
    expect(await getHook(hook.id)).toMatchObject({ active: true, consecutiveFailures: 0, failingSince: null });

    // A new run of three failures, which began more than an hour ago: the third disables the endpoint.
    answers.set("/auto", 500);
    await replay();
    await replay();
    await db.sql`update webhooks set failing_since = failing_since - interval '2 hours' where id = ${hook.id}`;
    expect(await replay()).toMatchObject({ status: "cancelled" });
    const disabled = await getHook(hook.id);
    expect(disabled).toMatchObject({ active: false, disabledReason: "failures", consecutiveFailures: 3, disabledAt: expect.any(String) });
    const [audit] = await db.sql`select actor_user_id, details from audit_log where target_id = ${hook.id} and action = 'webhook.auto-disabled'`;
    expect(audit).toMatchObject({ actor_user_id: null, details: { consecutiveFailures: 3 } });

    type Mail = { to: string[]; subject: string; text: string };
    const host = new URL(receiverBase).host;
    const mail = await until("the owner's email", async () =>
      ((await (await fetch(`${app.baseUrl}/admin/mailbox/messages`)).json()) as Mail[]).find((m) => m.to.some((t) => t.includes(owner.email)) && m.subject.includes("stopped sending webhooks")),
    );
    expect(mail.subject).toBe(`Ringlet stopped sending webhooks to ${host}`);
    expect(mail.text).toContain(`"Flaky CRM" (${host})`);
    expect(mail.text).toContain("3 delivery attempts in a row");
    const others = ((await (await fetch(`${app.baseUrl}/admin/mailbox/messages`)).json()) as Mail[]).filter((m) => m.subject.includes("stopped sending webhooks"));
    expect(others.flatMap((m) => m.to)).toEqual([expect.stringContaining(owner.email)]);

    // Nothing more is sent to it, and replaying is refused until it is enabled again.
    const next = await courseCreatedSeenBy("/witness-auto");
    expect((await deliveriesOf(hook.id)).map((d) => d.eventId)).not.toContain(next);
    expect((await call(app, "POST", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/replay`, { token: admin.accessToken })).status).toBe(409);

    // Enabling it again starts a fresh run.
    const enabled = await jsonOf(await call(app, "PATCH", `/v1/webhooks/${hook.id}`, { token: admin.accessToken, body: { active: true } }));
    expect(enabled).toMatchObject({ active: true, consecutiveFailures: 0, failingSince: null, disabledAt: null, disabledReason: null });
    // (That delivery has now had its eight attempts: it fails for good.)
    expect(await replay()).toMatchObject({ status: "failed", attempts: 8, lastStatusCode: 500 });
    expect(await getHook(hook.id)).toMatchObject({ active: true, consecutiveFailures: 1 });
  });
});

describe("signing secrets at rest", () => {
  const legacySecret = `whsec_legacy${randomUUID().replaceAll("-", "")}`;
  let sealedHook: { id: string; secret: string };

  it("stores secrets sealed, seals a plain one from before at its first use, and signs with the right secret", async () => {
    sealedHook = await register("/secret");
    const [stored] = await db.sql<{ secret: string }[]>`select secret from webhooks where id = ${sealedHook.id}`;
    expect(stored?.secret).toMatch(/^enc:v1:k1:/);
    expect(stored?.secret).not.toContain(sealedHook.secret.slice("whsec_".length));
    expect(await getHook(sealedHook.id)).not.toHaveProperty("secret");

    // An endpoint registered before secrets were sealed: its row holds the secret in plain text.
    const legacyId = randomUUID();
    await db.sql`insert into webhooks (id, url, secret, event_types) values (${legacyId}, ${`${receiverBase}/legacy`}, ${legacySecret}, '{course.created}')`;
    const event = await courseCreatedSeenBy("/secret");
    const legacy = await until("the delivery to the legacy endpoint", async () => received.find((r) => r.path === "/legacy" && r.eventId === event));
    const sealed = received.find((r) => r.path === "/secret" && r.eventId === event) as Received;
    expect(verify(sealed.signature, sealed.body, sealedHook.secret)).toBe(true);
    expect(verify(sealed.signature, sealed.body, legacySecret)).toBe(false);
    expect(verify(legacy.signature, legacy.body, legacySecret)).toBe(true);
    const [legacyRow] = await db.sql<{ secret: string }[]>`select secret from webhooks where id = ${legacyId}`;
    expect(legacyRow?.secret).toMatch(/^enc:v1:k1:/);
    expect(legacyRow?.secret).not.toContain(legacySecret.slice("whsec_".length));
  });

  it("rotates every secret to a new key, still signing with the same secrets, and works without the old key afterwards", async () => {
    // Another plain secret from before, on an endpoint nothing is sent to: only the rotation seals it.
    await db.sql`insert into webhooks (id, url, secret, active) values (${randomUUID()}, ${`${receiverBase}/idle`}, 'whsec_idle_plaintext', false)`;
    const count = (await db.sql`select id from webhooks`).length;

    // The new key goes first; the old one stays in the ring until the rotation ran.
    await app.stop();
    app = await startRinglet(`${k2},${k1}`);
    const underOldKey = await courseCreatedSeenBy("/secret");
    const signedUnderOldKey = received.find((r) => r.path === "/secret" && r.eventId === underOldKey) as Received;
    expect(verify(signedUnderOldKey.signature, signedUnderOldKey.body, sealedHook.secret)).toBe(true);

    const rotation = await call(app, "POST", "/v1/ops/webhook-secrets/rotate", { token: admin.accessToken });
    expect(rotation.status).toBe(200);
    expect(await jsonOf(rotation)).toEqual({ keyId: "k2", scanned: count, resealed: count, unopenable: [] });
    const rows = await db.sql<{ secret: string }[]>`select secret from webhooks`;
    expect(rows.filter((r) => !r.secret.startsWith("enc:v1:k2:"))).toEqual([]);
    expect(rows.filter((r) => r.secret.includes("whsec_") || r.secret.includes(sealedHook.secret.slice("whsec_".length)))).toEqual([]);
    expect(await jsonOf(await call(app, "POST", "/v1/ops/webhook-secrets/rotate", { token: admin.accessToken }))).toEqual({ keyId: "k2", scanned: count, resealed: 0, unopenable: [] });
    const audit = await db.sql`select actor_user_id, details from audit_log where action = 'webhook.secrets-resealed'`;
    expect(audit).toEqual([{ actor_user_id: admin.id, details: expect.objectContaining({ resealed: count }) }]);

    // The old key is gone: every endpoint still signs with the secret it was given.
    await app.stop();
    app = await startRinglet(k2);
    const afterRotation = await courseCreatedSeenBy("/secret");
    const legacy = await until("the legacy endpoint's delivery", async () => received.find((r) => r.path === "/legacy" && r.eventId === afterRotation));
    const signed = received.find((r) => r.path === "/secret" && r.eventId === afterRotation) as Received;
    expect(verify(signed.signature, signed.body, sealedHook.secret)).toBe(true);
    expect(verify(legacy.signature, legacy.body, legacySecret)).toBe(true);
  }, 120_000);
});
