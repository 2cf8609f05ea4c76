import { and, eq, gte, isNull, lte, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import { webhooks } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { cancelPendingDeliveries, lockPendingDeliveries, type WebhookRow } from "./webhooks.js";

/**
 * When a failing endpoint is switched off: after this many failed attempts in a row that also span at least
 * this long, so a burst of failures during a short outage never disables an endpoint (GitHub and Stripe
 * likewise wait for days of failures).
 */
export interface AutoDisablePolicy {
  afterFailures: number;
  failingForSeconds: number;
}

export function runWarrantsDisabling(run: { consecutiveFailures: number; failingSince: Date }, now: Date, policy: AutoDisablePolicy): boolean {
  return run.consecutiveFailures >= policy.afterFailures && now.getTime() - run.failingSince.getTime() >= policy.failingForSeconds * 1000;
}

/**
 * Disables an endpoint whose run of failures warrants it, checked again on the locked row so concurrent
 * recorders disable it once: its pending deliveries are cancelled, the change is audited, and
 * `webhook.disabled` tells its owner (by email). Null when the endpoint is no longer failing enough, or is
 * already disabled or deleted.
 */
export async function disableFailingWebhook(ctx: DomainContext, webhookId: string, policy: AutoDisablePolicy): Promise<WebhookRow | null> {
  const now = ctx.now();
  await lockPendingDeliveries(ctx.db, webhookId);
  const [row] = await ctx.db
    .update(webhooks)
    .set({ active: false, disabledAt: now, disabledReason: "failures", version: sql`${webhooks.version} + 1`, updatedAt: now })
    .where(
      and(
        eq(webhooks.id, webhookId),
        eq(webhooks.active, true),
        isNull(webhooks.deletedAt),
        gte(webhooks.consecutiveFailures, policy.afterFailures),
        lte(webhooks.failingSince, new Date(now.getTime() - policy.failingForSeconds * 1000)),
      ),
    )
    .returning();
  if (!row?.failingSince) return null;
  const cancelled = await cancelPendingDeliveries(ctx.db, webhookId, "the endpoint was disabled after failing repeatedly", now);
  const run = { consecutiveFailures: row.consecutiveFailures, failingSince: row.failingSince.toISOString() };
  await recordAudit(ctx, { action: "webhook.auto-disabled", actorUserId: null, targetType: "webhook", targetId: webhookId, details: { ...run, cancelledDeliveries: cancelled } });
  await recordEvent(ctx, {
    type: "webhook.disabled",
    aggregateType: "webhook",
    aggregateId: webhookId,
    data: { webhookId, ownerUserId: row.createdByUserId, reason: "failures", ...run, disabledAt: now.toISOString() },
  });
  return row;
}
