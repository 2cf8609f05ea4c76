import type { Actor } from "../../domain/shared/context.js";
import { resealBatch } from "../../domain/webhooks/secret-sealer.js";
import { inDomainTransaction } from "./domain-transaction.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { secretSealer } from "./webhook-secrets.js";

const BATCH = 100;

export interface RotationReport {
  keyId: string;
  scanned: number;
  resealed: number;
  unopenable: string[];
}

/**
 * Seals every webhook secret under the current key of WEBHOOK_SECRET_KEYS: plain ones left from before sealing
 * and ones under retired keys. One transaction per batch of rows, so a long table never holds its locks for
 * long; safe to run again (or twice at once), and once it reports nothing unopenable, older keys can go.
 */
export async function rotateWebhookSecrets(p: Platform, actor: Partial<Actor>, log: Logger): Promise<RotationReport> {
  const sealer = secretSealer(p.settings);
  const report: RotationReport = { keyId: p.settings.WEBHOOK_SECRET_KEYS[0]?.id ?? "", scanned: 0, resealed: 0, unopenable: [] };
  let afterId: string | undefined;
  for (;;) {
    const batch = await inDomainTransaction(p, actor, (ctx) => resealBatch(ctx, sealer, { limit: BATCH, ...(afterId ? { afterId } : {}) }), log);
    report.scanned += batch.scanned;
    report.resealed += batch.resealed;
    report.unopenable.push(...batch.unopenable);
    if (batch.scanned < BATCH || !batch.lastId) break;
    afterId = batch.lastId;
  }
  log.info("webhook secrets rotated", { ...report, unopenable: report.unopenable.length });
  return report;
}
