import { deliveryWithWebhook, type PlannedDelivery, recordAttempt } from "../../domain/webhooks/webhooks.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { sendDelivery } from "./webhook-sender.js";

/** How long an attempt holds a delivery before the retry timer may take it over: three timeouts. */
export const deliveryLeaseSeconds = (p: Platform): number => Math.ceil(p.settings.WEBHOOK_TIMEOUT_MS / 1000) * 3;

/** Attempts deliveries now (reading each with its endpoint) and records each outcome. */
export async function attemptDeliveries(p: Platform, deliveryIds: string[], log: Logger): Promise<void> {
  await Promise.all(
    deliveryIds.map(async (id) => {
      const found = await deliveryWithWebhook(p.database.db, id);
      if (found) await attemptPlanned(p, found, log);
    }),
  );
}

/** Sends one delivery that is still pending and records the outcome (delivered, retry planned, or given up). */
export async function attemptPlanned(p: Platform, { delivery, webhook }: PlannedDelivery, log: Logger): Promise<void> {
  if (delivery.status !== "pending") return;
  const s = p.settings;
  const outcome = await sendDelivery(webhook, delivery, { timeoutMs: s.WEBHOOK_TIMEOUT_MS, allowPrivate: s.WEBHOOKS_ALLOW_PRIVATE_TARGETS, now: p.clock() });
  const row = await recordAttempt(p.database.db, delivery.id, outcome, p.clock(), {
    maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
    baseDelaySeconds: s.WEBHOOK_RETRY_BASE_S,
    maxDelaySeconds: 6 * 3600,
  });
  log[outcome.ok ? "info" : "warn"]("webhook delivery attempted", {
    deliveryId: delivery.id,
    webhookId: webhook.id,
    status: row?.status,
    statusCode: outcome.statusCode,
    latencyMs: Math.round(outcome.latencyMs),
    error: outcome.error,
  });
}
