import { and, eq, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import { webhooks } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { cancelPendingDeliveries, lockPendingDeliveries, type WebhookRow } from "./webhooks.js";

export interface WebhookPatch {
  url?: string;
  eventTypes?: string[];
  description?: string;
  active?: boolean;
}

const sameTypes = (a: string[], b: string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * Changes an endpoint. Enabling it again, or pointing it somewhere else, starts its failure run afresh; disabling
 * it cancels its pending deliveries. A patch that changes nothing leaves the version as it is.
 */
export async function updateWebhook(
  ctx: DomainContext,
  webhookId: string,
  patch: WebhookPatch,
  expectedVersion?: number,
): Promise<Result<WebhookRow, "WEBHOOK_NOT_FOUND" | "PRECONDITION_FAILED">> {
  if (patch.active === false) await lockPendingDeliveries(ctx.db, webhookId);
  const [current] = await ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, webhookId), isNull(webhooks.deletedAt)))
    .for("update");
  if (!current) return fail("WEBHOOK_NOT_FOUND");
  if (expectedVersion !== undefined && current.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  const now = ctx.now();
  const eventTypes = patch.eventTypes && [...new Set(patch.eventTypes)].sort();
  const changed = {
    url: patch.url !== undefined && patch.url !== current.url,
    eventTypes: eventTypes !== undefined && !sameTypes(eventTypes, current.eventTypes),
    description: patch.description !== undefined && patch.description !== current.description,
    active: patch.active !== undefined && patch.active !== current.active,
  };
  const fields = Object.entries(changed)
    .filter(([, v]) => v)
    .map(([k]) => k);
  if (fields.length === 0) return ok(current);
  const enabled = changed.active && patch.active === true;
  const disabled = changed.active && patch.active === false;
  const freshRun = enabled || changed.url ? { consecutiveFailures: 0, failingSince: null } : {};
  const [row] = await ctx.db
    .update(webhooks)
    .set({
      ...(changed.url ? { url: patch.url } : {}),
      ...(changed.eventTypes ? { eventTypes } : {}),
      ...(changed.description ? { description: patch.description } : {}),
      ...(enabled ? { active: true, disabledAt: null, disabledReason: null } : {}),
      ...(disabled ? { active: false, disabledAt: now, disabledReason: "admin" as const } : {}),
      ...freshRun,
      version: sql`${webhooks.version} + 1`,
      updatedAt: now,
    })
    .where(eq(webhooks.id, webhookId))
    .returning();
  const cancelled = disabled ? await cancelPendingDeliveries(ctx.db, webhookId, "the endpoint was disabled", now) : 0;
  await recordAudit(ctx, {
    action: "webhook.updated",
    targetType: "webhook",
    targetId: webhookId,
    details: {
      fields,
      ...(changed.url ? { url: { from: current.url, to: patch.url } } : {}),
      ...(changed.active ? { active: patch.active, cancelledDeliveries: cancelled } : {}),
    },
  });
  return ok(row as WebhookRow);
}

/**
 * Deletes an endpoint: it receives nothing from now on and its pending deliveries are cancelled, but the row
 * stays (inactive, marked deleted) so its delivery log can still be read.
 */
export async function deleteWebhook(ctx: DomainContext, webhookId: string): Promise<Result<WebhookRow, "WEBHOOK_NOT_FOUND">> {
  const now = ctx.now();
  await lockPendingDeliveries(ctx.db, webhookId);
  const [row] = await ctx.db
    .update(webhooks)
    .set({ active: false, deletedAt: now, version: sql`${webhooks.version} + 1`, updatedAt: now })
    .where(and(eq(webhooks.id, webhookId), isNull(webhooks.deletedAt)))
    .returning();
  if (!row) return fail("WEBHOOK_NOT_FOUND");
  const cancelled = await cancelPendingDeliveries(ctx.db, webhookId, "the endpoint was deleted", now);
  await recordAudit(ctx, { action: "webhook.deleted", targetType: "webhook", targetId: webhookId, details: { url: row.url, cancelledDeliveries: cancelled } });
  return ok(row);
}
