import { and, asc, eq, gt } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { webhooks } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

/**
 * Seals webhook signing secrets for storage and opens them to sign a delivery. The key material lives outside
 * the domain; the webhook id is bound to each sealed value.
 */
export interface SecretSealer {
  seal(plaintext: string, webhookId: string): string;
  /** The plain secret of a stored value: sealed under any key of the ring, or a row from before sealing. */
  open(stored: string, webhookId: string): string;
  /** False for a row from before sealing (it holds the plain secret). */
  isSealed(stored: string): boolean;
  /** Sealed under the key that seals now. */
  isCurrent(stored: string): boolean;
}

/**
 * Replaces a stored secret with its sealed form, only while the row still holds what the caller read: a
 * concurrent seal or rotation that got there first wins, and nothing is overwritten with an older value.
 */
export async function replaceStoredSecret(db: Executor, webhookId: string, from: string, to: string): Promise<boolean> {
  const rows = await db
    .update(webhooks)
    .set({ secret: to })
    .where(and(eq(webhooks.id, webhookId), eq(webhooks.secret, from)))
    .returning({ id: webhooks.id });
  return rows.length > 0;
}

export interface RotationBatch {
  /** Rows looked at in this batch; fewer than the batch size means the table is done. */
  scanned: number;
  resealed: number;
  /** Webhooks whose secret no key of the ring opens (sealed with a key dropped too early): left as they are. */
  unopenable: string[];
  /** The last id looked at: where the next batch starts. */
  lastId: string | null;
}

/**
 * One batch of a rotation, in the caller's transaction: every secret after `afterId` that is not sealed under
 * the current key (plain, or under a retired key) is sealed again under it, and audited. Rows are locked while
 * they are resealed, so two rotations at once seal each row once; running it again changes nothing.
 */
export async function resealBatch(ctx: DomainContext, sealer: SecretSealer, q: { afterId?: string; limit: number }): Promise<RotationBatch> {
  const rows = await ctx.db
    .select({ id: webhooks.id, secret: webhooks.secret })
    .from(webhooks)
    .where(q.afterId ? gt(webhooks.id, q.afterId) : undefined)
    .orderBy(asc(webhooks.id))
    .limit(q.limit)
    .for("update");
  let resealed = 0;
  const unopenable: string[] = [];
  for (const row of rows) {
    if (sealer.isCurrent(row.secret)) continue;
    let plaintext: string;
    try {
      plaintext = sealer.open(row.secret, row.id);
    } catch {
      unopenable.push(row.id);
      continue;
    }
    await ctx.db.update(webhooks).set({ secret: sealer.seal(plaintext, row.id) }).where(eq(webhooks.id, row.id));
    resealed++;
  }
  if (resealed > 0) await recordAudit(ctx, { action: "webhook.secrets-resealed", targetType: "webhook", details: { resealed, firstId: rows[0]?.id, lastId: rows.at(-1)?.id } });
  return { scanned: rows.length, resealed, unopenable, lastId: rows.at(-1)?.id ?? null };
}
