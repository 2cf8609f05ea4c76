import { deliveryWithWebhook, recordAttempt } from "../../domain/webhooks/webhooks.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { sendDelivery } from "./webhook-sender.js";

/** How long an attempt holds a delivery before the retry timer may take it over: three timeouts. */
export const deliveryLeaseSeconds = (p: Platform): number => Math.ceil(p.settings.WEBHOOK_TIMEOUT_MS / 1000) * 3;

/** Attempts deliveries now and records each outcome (delivered, retry planned, or given up). */
export async function attemptDeliveries(p: Platform, deliveryIds: string[], log: Logger): Promise<void> {
  const s = p.settings;
  await Promise.all(
    deliveryIds.map(async (id) => {
      const found = await deliveryWithWebhook(p.database.db, id);
      if (!found || found.delivery.status !== "pending") return;
      const outcome = await sendDelivery(found.webhook, found.delivery, {
        timeoutMs: s.WEBHOOK_TIMEOUT_MS,
        allowPrivate: s.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
        now: p.clock(),
      });
      const row = await recordAttempt(p.database.db, id, outcome, p.clock(), {
        maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
        baseDelaySeconds: s.WEBHOOK_RETRY_BASE_S,
        maxDelaySeconds: 6 * 3600,
      });
      log[outcome.ok ? "info" : "warn"]("webhook delivery attempted", {
        deliveryId: id,
        webhookId: found.webhook.id,
        status: row?.status,
        statusCode: outcome.statusCode,
        latencyMs: Math.round(outcome.latencyMs),
        error: outcome.error,
      });
    }),
  );
}
