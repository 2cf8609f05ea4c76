import { randomUUID } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainContext } from "../../../domain/shared/context.js";
import { systemActor } from "../../../domain/shared/context.js";
import { disableFailingWebhook } from "../../../domain/webhooks/endpoint-health.js";
import { updateWebhook } from "../../../domain/webhooks/manage-webhook.js";
import { recordAttempt } from "../../../domain/webhooks/webhooks.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 12 });
});
afterAll(async () => {
  await db?.drop();
});

const policy = { maxAttempts: 8, baseDelaySeconds: 30, maxDelaySeconds: 3600 };
const failure = { ok: false, statusCode: 500, latencyMs: 3, error: "answered 500" };
const success = { ok: true, statusCode: 204, latencyMs: 3, error: null };

async function endpointWithDeliveries(n: number): Promise<{ webhookId: string; deliveryIds: string[] }> {
  const webhookId = randomUUID();
  await db.sql`insert into webhooks (id, url, secret) values (${webhookId}, 'https://203.0.113.10/hook', 'enc:v1:k1:x')`;
  const deliveryIds = Array.from({ length: n }, () => uuidv7());
  for (const id of deliveryIds) {
    await db.sql`insert into webhook_deliveries (id, webhook_id, event_id, event_type, payload) values (${id}, ${webhookId}, ${randomUUID()}, 'course.created', '{}')`;
  }
  return { webhookId, deliveryIds };
}

const run = async (webhookId: string) =>
  (await db.sql<{ consecutive_failures: number; failing_since: Date | null; active: boolean }[]>`
    select consecutive_failures, failing_since, active from webhooks where id = ${webhookId}`)[0];

describe("an endpoint's run of failures", () => {
  it("counts every failure recorded at once, from the first one's time, and a success ends it", async () => {
    const { webhookId, deliveryIds } = await endpointWithDeliveries(10);
    const start = new Date("2030-01-01T00:00:00Z");
    const recorded = await Promise.all(deliveryIds.map((id, i) => recordAttempt(db.db, id, failure, new Date(start.getTime() + i * 1000), policy)));
    expect(await run(webhookId)).toMatchObject({ consecutive_failures: 10 });
    expect(new Set(recorded.map((r) => r?.failureRun?.consecutiveFailures))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i + 1)));
    // The run began with whichever failure was recorded first.
    const since = new Date((await run(webhookId))?.failing_since as Date).getTime() - start.getTime();
    expect(since).toBeGreaterThanOrEqual(0);
    expect(since).toBeLessThan(10_000);

    const ok = await recordAttempt(db.db, deliveryIds[0] as string, success, new Date(), policy);
    expect(ok).toMatchObject({ delivery: { status: "succeeded" }, failureRun: null });
    expect(await run(webhookId)).toMatchObject({ consecutive_failures: 0, failing_since: null });
  });

  it("is disabled once by concurrent recorders, with one audit entry and one event", async () => {
    const { webhookId, deliveryIds } = await endpointWithDeliveries(3);
    await db.sql`update webhooks set consecutive_failures = 25, failing_since = now() - interval '2 days' where id = ${webhookId}`;
    const ctx = (): DomainContext => ({ db: db.db, now: () => new Date(), newId: uuidv7, actor: systemActor });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => db.db.transaction((tx) => disableFailingWebhook({ ...ctx(), db: tx }, webhookId, { afterFailures: 20, failingForSeconds: 86_400 }))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await run(webhookId)).toMatchObject({ active: false });
    expect((await db.sql`select 1 from audit_log where target_id = ${webhookId} and action = 'webhook.auto-disabled'`).length).toBe(1);
    const events = await db.sql<{ data: Record<string, unknown> }[]>`select data from outbox where type = 'webhook.disabled' and aggregate_id = ${webhookId}`;
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ webhookId, reason: "failures", consecutiveFailures: 25 });
    const statuses = await db.sql`select status from webhook_deliveries where id in ${db.sql(deliveryIds)}`;
    expect(statuses.map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
  });

  it("is not disabled before it spans long enough, nor after an admin enabled it again", async () => {
    const { webhookId } = await endpointWithDeliveries(1);
    const ctx: DomainContext = { db: db.db, now: () => new Date(), newId: uuidv7, actor: systemActor };
    const rule = { afterFailures: 20, failingForSeconds: 86_400 };
    await db.sql`update webhooks set consecutive_failures = 500, failing_since = now() - interval '23 hours' where id = ${webhookId}`;
    expect(await db.db.transaction((tx) => disableFailingWebhook({ ...ctx, db: tx }, webhookId, rule))).toBeNull();
    await db.sql`update webhooks set consecutive_failures = 19, failing_since = now() - interval '3 days' where id = ${webhookId}`;
    expect(await db.db.transaction((tx) => disableFailingWebhook({ ...ctx, db: tx }, webhookId, rule))).toBeNull();

    await db.sql`update webhooks set active = false, disabled_reason = 'failures', consecutive_failures = 30 where id = ${webhookId}`;
    const enabled = await db.db.transaction((tx) => updateWebhook({ ...ctx, db: tx }, webhookId, { active: true }));
    expect(enabled.ok && enabled.value).toMatchObject({ active: true, consecutiveFailures: 0, failingSince: null, disabledReason: null });
  });
});
