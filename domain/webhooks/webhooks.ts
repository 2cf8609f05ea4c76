import { createHmac, randomBytes } from "node:crypto";
import { and, asc, eq, gt, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { webhookDeliveries, webhooks } from "../db/schema/index.js";
import type { EventEnvelope } from "../events/catalog.js";
import { withoutErasedPersonalData } from "../privacy/erasure.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { SecretSealer } from "./secret-sealer.js";

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export interface RetryPolicy {
  maxAttempts: number;
  /** First wait; each further failure doubles it, up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 8, baseDelaySeconds: 30, maxDelaySeconds: 6 * 3600 };

/** Registers an endpoint; its signing secret is stored sealed and returned in the clear this once. */
export async function registerWebhook(
  ctx: DomainContext,
  input: { url: string; eventTypes: string[]; description: string },
  sealer: SecretSealer,
): Promise<{ webhook: WebhookRow; secret: string }> {
  const now = ctx.now();
  const id = ctx.newId();
  const secret = `whsec_${randomBytes(24).toString("base64url")}`;
  const [row] = await ctx.db
    .insert(webhooks)
    .values({
      id,
      url: input.url,
      secret: sealer.seal(secret, id),
      eventTypes: [...new Set(input.eventTypes)].sort(),
      description: input.description,
      createdByUserId: ctx.actor.userId,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  await recordAudit(ctx, { action: "webhook.registered", targetType: "webhook", targetId: id, details: { url: input.url, eventTypes: row?.eventTypes } });
  return { webhook: row as WebhookRow, secret };
}

/** Endpoints that are not deleted, in id order. */
export async function listWebhooks(db: Executor, q: { limit: number; afterId?: string }): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(and(isNull(webhooks.deletedAt), q.afterId ? gt(webhooks.id, q.afterId) : undefined))
    .orderBy(asc(webhooks.id))
    .limit(q.limit + 1);
}

/** An endpoint that is not deleted; `withDeleted` also finds deleted ones (their delivery log stays readable). */
export async function findWebhook(db: Executor, id: string, options: { withDeleted?: boolean } = {}): Promise<WebhookRow | null> {
  const [row] = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), options.withDeleted ? undefined : isNull(webhooks.deletedAt)));
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
  // Stored as the erasure would have left them, should one of them be about a user erased since it was published.
  const stored = await withoutErasedPersonalData(ctx.db, events);
  const endpoints = await ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.active, true), isNull(webhooks.deletedAt)));
  const now = ctx.now();
  const values = stored.flatMap((event) =>
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

export interface RecordedAttempt {
  delivery: DeliveryRow;
  /** The endpoint's run of failed attempts once this one is counted; null when the attempt succeeded. */
  failureRun: { consecutiveFailures: number; failingSince: Date } | null;
}

/**
 * Records one attempt in one statement: delivered, or retried later with exponential backoff (from the
 * attempt count stored, so concurrent recorders cannot lose an attempt), or given up after maxAttempts; a
 * delivery cancelled meanwhile stays cancelled. The same statement counts a failure into the endpoint's run of
 * failed attempts, or ends the run on a success (a healthy endpoint's row is not even locked for that).
 */
export async function recordAttempt(db: Executor, deliveryId: string, outcome: AttemptOutcome, now: Date, policy: RetryPolicy): Promise<RecordedAttempt | null> {
  const t = webhookDeliveries;
  const attempts = sql`${t.attempts} + 1`;
  const stops = sql`(${t.status} = 'cancelled' or ${attempts} >= ${policy.maxAttempts})`;
  const delaySeconds = sql`least(${policy.baseDelaySeconds}::float8 * power(2, ${t.attempts}), ${policy.maxDelaySeconds}::float8)`;
  const at = sql`${now.toISOString()}::timestamptz`;
  const recorded = db.$with("recorded").as(
    db
      .update(t)
      .set({
        attempts: sql`${attempts}`,
        status: outcome.ok ? "succeeded" : sql`case when ${t.status} = 'cancelled' then 'cancelled' when ${attempts} >= ${policy.maxAttempts} then 'failed' else 'pending' end`,
        lastStatusCode: outcome.statusCode,
        lastLatencyMs: Math.round(outcome.latencyMs),
        lastError: outcome.error?.slice(0, 1000) ?? null,
        nextAttemptAt: outcome.ok ? null : sql`case when ${stops} then null else ${at} + make_interval(secs => ${delaySeconds}) end`,
        ...(outcome.ok ? { deliveredAt: now } : {}),
        updatedAt: now,
      })
      .where(eq(t.id, deliveryId))
      .returning(),
  );
  const w = webhooks;
  const run = db.$with("run").as(
    db
      .update(w)
      .set(outcome.ok ? { consecutiveFailures: 0, failingSince: null } : { consecutiveFailures: sql`${w.consecutiveFailures} + 1`, failingSince: sql`coalesce(${w.failingSince}, ${at})` })
      .where(and(sql`${w.id} = (select webhook_id from recorded)`, outcome.ok ? gt(w.consecutiveFailures, 0) : undefined))
      .returning({ consecutiveFailures: w.consecutiveFailures, failingSince: w.failingSince }),
  );
  const [row] = await db.with(recorded, run).select().from(recorded).leftJoin(run, sql`true`);
  if (!row) return null;
  const failureRun = !outcome.ok && row.run?.failingSince ? { consecutiveFailures: row.run.consecutiveFailures, failingSince: row.run.failingSince } : null;
  return { delivery: row.recorded as DeliveryRow, failureRun };
}

/**
 * Locks an endpoint's pending deliveries. Whatever disables an endpoint takes these before the endpoint's row:
 * recording an attempt takes the delivery and then the endpoint, so the same order never deadlocks with it.
 */
export async function lockPendingDeliveries(db: Executor, webhookId: string): Promise<void> {
  await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, "pending")))
    .for("update");
}

/**
 * Marks an endpoint's pending deliveries as not to be attempted (the endpoint was disabled or deleted); the
 * records stay in its delivery log.
 */
export async function cancelPendingDeliveries(db: Executor, webhookId: string, reason: string, now: Date): Promise<number> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ status: "cancelled", nextAttemptAt: null, lastError: reason, updatedAt: now })
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, "pending")))
    .returning({ id: webhookDeliveries.id });
  return rows.length;
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

/**
 * Sends a delivery again, whatever its state: it becomes pending, leased to the caller that sends it now. Only
 * an active endpoint is sent to: a disabled or deleted one receives nothing until it is enabled again.
 */
export async function replayDelivery(
  ctx: DomainContext,
  webhookId: string,
  deliveryId: string,
  leaseSeconds: number,
): Promise<Result<DeliveryRow, "DELIVERY_NOT_FOUND" | "WEBHOOK_INACTIVE">> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: new Date(now.getTime() + leaseSeconds * 1000), updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.webhookId, webhookId),
        sql`exists (select 1 from ${webhooks} where ${webhooks.id} = ${webhookId} and ${webhooks.active} and ${webhooks.deletedAt} is null)`,
      ),
    )
    .returning();
  if (row) return ok(row);
  const [exists] = await ctx.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)));
  return exists ? fail("WEBHOOK_INACTIVE", "Enable the endpoint before sending it deliveries again.") : fail("DELIVERY_NOT_FOUND");
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
