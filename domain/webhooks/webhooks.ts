import { createHmac, randomBytes } from "node:crypto";
import { and, asc, eq, gt, isNotNull, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { webhookDeliveries, webhooks } from "../db/schema/index.js";
import type { EventEnvelope } from "../events/catalog.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export interface RetryPolicy {
  maxAttempts: number;
  /** First wait; each further failure doubles it, up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 8, baseDelaySeconds: 30, maxDelaySeconds: 6 * 3600 };

export async function registerWebhook(
  ctx: DomainContext,
  input: { url: string; eventTypes: string[]; description: string },
): Promise<WebhookRow> {
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(webhooks)
    .values({
      id: ctx.newId(),
      url: input.url,
      secret: `whsec_${randomBytes(24).toString("base64url")}`,
      eventTypes: [...new Set(input.eventTypes)].sort(),
      description: input.description,
      createdByUserId: ctx.actor.userId,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row as WebhookRow;
}

export async function listWebhooks(db: Executor, q: { limit: number; afterId?: string }): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(q.afterId ? gt(webhooks.id, q.afterId) : undefined)
    .orderBy(asc(webhooks.id))
    .limit(q.limit + 1);
}

export async function findWebhook(db: Executor, id: string): Promise<WebhookRow | null> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row ?? null;
}

/** A planned delivery with its endpoint: what a sender needs, without reading either back. */
export interface PlannedDelivery {
  delivery: DeliveryRow;
  webhook: WebhookRow;
}

const takes = (w: WebhookRow, type: string) => w.eventTypes.length === 0 || w.eventTypes.includes(type);

/**
 * One pending delivery per active endpoint whose filter takes the event, for a batch of events in two
 * statements (the endpoints, then every delivery); a redelivered event plans nothing new. The caller sends
 * them at once; their first retry is due only after `leaseSeconds`, so the retry timer picks one up only when
 * that first attempt never got recorded (a crash), never alongside it.
 */
export async function planDeliveriesFor(ctx: DomainContext, events: EventEnvelope[], leaseSeconds: number): Promise<PlannedDelivery[]> {
  if (events.length === 0) return [];
  const endpoints = await ctx.db.select().from(webhooks).where(eq(webhooks.active, true));
  const now = ctx.now();
  const values = events.flatMap((event) =>
    endpoints
      .filter((w) => takes(w, event.type))
      .map((w) => ({
        id: ctx.newId(),
        webhookId: w.id,
        eventId: event.id,
        eventType: event.type,
        payload: event,
        nextAttemptAt: new Date(now.getTime() + leaseSeconds * 1000),
        createdAt: now,
        updatedAt: now,
      })),
  );
  if (values.length === 0) return [];
  const rows = await ctx.db.insert(webhookDeliveries).values(values).onConflictDoNothing().returning();
  const byId = new Map(endpoints.map((w) => [w.id, w]));
  return rows.map((delivery) => ({ delivery, webhook: byId.get(delivery.webhookId) as WebhookRow }));
}

/** `planDeliveriesFor` one event; the planned delivery ids. */
export async function planDeliveries(ctx: DomainContext, event: EventEnvelope, leaseSeconds: number): Promise<string[]> {
  return (await planDeliveriesFor(ctx, [event], leaseSeconds)).map((p) => p.delivery.id);
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/**
 * Records one attempt in one statement: delivered, or retried later with exponential backoff (from the
 * attempt count stored, so concurrent recorders cannot lose an attempt), or given up after maxAttempts.
 */
export async function recordAttempt(db: Executor, deliveryId: string, outcome: AttemptOutcome, now: Date, policy: RetryPolicy): Promise<DeliveryRow | null> {
  const t = webhookDeliveries;
  const attempts = sql`${t.attempts} + 1`;
  const givesUp = sql`${attempts} >= ${policy.maxAttempts}`;
  const delaySeconds = sql`least(${policy.baseDelaySeconds}::float8 * power(2, ${t.attempts}), ${policy.maxDelaySeconds}::float8)`;
  const [row] = await db
    .update(t)
    .set({
      attempts: sql`${attempts}`,
      status: outcome.ok ? "succeeded" : sql`case when ${givesUp} then 'failed' else 'pending' end`,
      lastStatusCode: outcome.statusCode,
      lastLatencyMs: Math.round(outcome.latencyMs),
      lastError: outcome.error?.slice(0, 1000) ?? null,
      nextAttemptAt: outcome.ok ? null : sql`case when ${givesUp} then null else ${now.toISOString()}::timestamptz + make_interval(secs => ${delaySeconds}) end`,
      ...(outcome.ok ? { deliveredAt: now } : {}),
      updatedAt: now,
    })
    .where(eq(t.id, deliveryId))
    .returning();
  return row ?? null;
}

/**
 * Claims deliveries whose next attempt is due: the claim pushes their next attempt out by `leaseSeconds`,
 * so two retry timers never send one delivery at once.
 */
export async function claimDueDeliveries(db: Executor, now: Date, limit: number, leaseSeconds: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${webhookDeliveries} set next_attempt_at = ${new Date(now.getTime() + leaseSeconds * 1000).toISOString()}::timestamptz
    where id in (
      select id from ${webhookDeliveries}
      where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
      order by next_attempt_at limit ${limit} for update skip locked)
    returning id`);
  return [...rows].map((r) => r.id);
}

export async function deliveryWithWebhook(db: Executor, deliveryId: string) {
  const [row] = await db
    .select({ delivery: webhookDeliveries, webhook: webhooks })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, deliveryId));
  return row ?? null;
}

export async function listDeliveries(db: Executor, q: { webhookId: string; limit: number; beforeId?: string }): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, q.webhookId), q.beforeId ? sql`${webhookDeliveries.id} < ${q.beforeId}` : undefined))
    .orderBy(sql`${webhookDeliveries.id} desc`)
    .limit(q.limit + 1);
}

/** Sends a delivery again, whatever its state: it becomes pending, leased to the caller that sends it now. */
export async function replayDelivery(ctx: DomainContext, webhookId: string, deliveryId: string, leaseSeconds: number): Promise<Result<DeliveryRow, "DELIVERY_NOT_FOUND">> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: new Date(now.getTime() + leaseSeconds * 1000), updatedAt: now })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)))
    .returning();
  return row ? ok(row) : fail("DELIVERY_NOT_FOUND");
}

/**
 * The signature header: HMAC-SHA256 over `<timestamp>.<body>` with the endpoint's secret. Receivers
 * recompute it and refuse timestamps too far from their clock, so a captured delivery cannot be replayed.
 */
export function signPayload(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${mac}`;
}

export async function pendingDueCount(db: Executor, now: Date): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), isNotNull(webhookDeliveries.nextAttemptAt), lte(webhookDeliveries.nextAttemptAt, now)));
  return r?.n ?? 0;
}
