import { disableFailingWebhook, runWarrantsDisabling } from "../../domain/webhooks/endpoint-health.js";
import { replaceStoredSecret } from "../../domain/webhooks/secret-sealer.js";
import { cancelPendingDeliveries, deliveryWithWebhook, type PlannedDelivery, recordAttempt, type WebhookRow } from "../../domain/webhooks/webhooks.js";
import { inDomainTransaction } from "./domain-transaction.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { secretSealer } from "./webhook-secrets.js";
import { sendDelivery } from "./webhook-sender.js";

/** How long an attempt holds a delivery before the retry timer may take it over: three timeouts. */
export const deliveryLeaseSeconds = (p: Platform): number => Math.ceil(p.settings.WEBHOOK_TIMEOUT_MS / 1000) * 3;

/**
 * Attempts deliveries now (reading each with its endpoint) and records each outcome. One that cannot be
 * attempted (a secret no key opens) is logged and left pending, so it does not stop the others.
 */
export async function attemptDeliveries(p: Platform, deliveryIds: string[], log: Logger): Promise<void> {
  const results = await Promise.allSettled(
    deliveryIds.map(async (id) => {
      const found = await deliveryWithWebhook(p.database.db, id);
      if (found) await attemptPlanned(p, found, log);
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ deliveryId: deliveryIds[i], err: r.reason as unknown }] : []));
  for (const f of failed) log.error("webhook delivery not attempted", f);
  if (failed.length === deliveryIds.length && failed[0]) throw failed[0].err;
}

/**
 * The endpoint's signing secret in the clear. A row from before secrets were sealed is sealed now, on this
 * first read, so plain secrets leave the table as their endpoints are used (a rotation seals the rest).
 */
async function signingSecret(p: Platform, webhook: WebhookRow): Promise<string> {
  const sealer = secretSealer(p.settings);
  const secret = sealer.open(webhook.secret, webhook.id);
  if (!sealer.isSealed(webhook.secret)) await replaceStoredSecret(p.database.db, webhook.id, webhook.secret, sealer.seal(secret, webhook.id));
  return secret;
}

/**
 * Sends one delivery that is still pending and records the outcome (delivered, retry planned, or given up);
 * a failure that completes a long enough run of failures disables the endpoint.
 */
export async function attemptPlanned(p: Platform, { delivery, webhook }: PlannedDelivery, log: Logger): Promise<void> {
  if (delivery.status !== "pending") return;
  const s = p.settings;
  if (!webhook.active || webhook.deletedAt) {
    // Disabled or deleted after this delivery was planned: it is not attempted.
    await cancelPendingDeliveries(p.database.db, webhook.id, webhook.deletedAt ? "the endpoint was deleted" : "the endpoint was disabled", p.clock());
    return;
  }
  const secret = await signingSecret(p, webhook);
  const outcome = await sendDelivery({ ...webhook, secret }, delivery, { timeoutMs: s.WEBHOOK_TIMEOUT_MS, allowPrivate: s.WEBHOOKS_ALLOW_PRIVATE_TARGETS, now: p.clock() });
  const recorded = await recordAttempt(p.database.db, delivery.id, outcome, p.clock(), {
    maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
    baseDelaySeconds: s.WEBHOOK_RETRY_BASE_S,
    maxDelaySeconds: 6 * 3600,
  });
  log[outcome.ok ? "info" : "warn"]("webhook delivery attempted", {
    deliveryId: delivery.id,
    webhookId: webhook.id,
    status: recorded?.delivery.status,
    statusCode: outcome.statusCode,
    latencyMs: Math.round(outcome.latencyMs),
    error: outcome.error,
  });
  const policy = { afterFailures: s.WEBHOOK_DISABLE_AFTER_FAILURES, failingForSeconds: s.WEBHOOK_DISABLE_FAILING_FOR_S };
  if (recorded?.failureRun && runWarrantsDisabling(recorded.failureRun, p.clock(), policy)) {
    const disabled = await inDomainTransaction(p, {}, (ctx) => disableFailingWebhook(ctx, webhook.id, policy), log);
    if (disabled) log.warn("webhook endpoint disabled after repeated failures", { webhookId: webhook.id, consecutiveFailures: disabled.consecutiveFailures, failingSince: disabled.failingSince });
  }
}
