import { and, isNotNull, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { accountTokens, idempotencyKeys, inbox, loginThrottles, outbox, refreshTokens, twoFactorChallenges } from "../db/schema/index.js";
import { expireGenerationDocuments } from "../generation/expire-documents.js";
import { expireImports } from "../imports/expire-imports.js";
import { expireDataExports, failOverlongDataExports } from "../privacy/data-exports.js";
import type { BlobRemover } from "../privacy/erasure.js";

export interface Retention {
  /** Published outbox rows and processed inbox rows are kept this long (for audits and replays). */
  eventDays: number;
  /** Expired or revoked refresh tokens are kept this long (theft investigations). */
  tokenDays: number;
  /** An import's file and staged rows are deleted this long after it was created, a finished generation job's document this long after it finished (default 30). */
  importDays?: number;
}

export interface HousekeepingResult {
  refreshTokens: number;
  idempotencyKeys: number;
  inbox: number;
  outbox: number;
  loginThrottles: number;
  /** Two-factor sign-in challenges (five-minute, single-use) past the token retention. */
  twoFactorChallenges: number;
  /** Data exports whose archive was deleted at the end of its retention. */
  dataExports: number;
  /** Data exports still at work after EXPORT_MAX_RUN_MS, failed so their owner may ask again (their files deleted). */
  stalledDataExports: number;
  /** Emailed account links (verification, password reset, account invitation) expired longer than the token retention. */
  accountTokens: number;
  /** Imports whose file and staged rows were deleted at the end of their retention. */
  imports: number;
  /** Generation documents: unused ones (row and blob) after a day, finished jobs' blobs after the import retention. */
  generationDocuments: { unused: number; finished: number };
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

/**
 * Purges what has outlived its use. Idempotent and safe to run late or twice. `exportFiles` deletes data-export
 * archives and staging in Blob Storage (files already gone are fine).
 */
export async function housekeeping(db: Executor, now: Date, retention: Retention, exportFiles: BlobRemover): Promise<HousekeepingResult> {
  const tokenCutoff = daysBefore(now, retention.tokenDays);
  const eventCutoff = daysBefore(now, retention.eventDays);
  const count = async (q: Promise<unknown[]>) => (await q).length;
  return {
    refreshTokens: await count(
      db
        .delete(refreshTokens)
        .where(sql`${refreshTokens.expiresAt} < ${tokenCutoff.toISOString()}::timestamptz or (${refreshTokens.revokedAt} is not null and ${refreshTokens.revokedAt} < ${tokenCutoff.toISOString()}::timestamptz)`)
        .returning({ id: refreshTokens.id }),
    ),
    idempotencyKeys: await count(db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).returning({ key: idempotencyKeys.key })),
    inbox: await count(db.delete(inbox).where(and(lt(inbox.processedAt, eventCutoff), sql`${inbox.status} = 'processed'`)).returning({ id: inbox.messageId })),
    outbox: await count(db.delete(outbox).where(and(isNotNull(outbox.publishedAt), lt(outbox.publishedAt, eventCutoff))).returning({ id: outbox.id })),
    loginThrottles: await count(
      db
        .delete(loginThrottles)
        .where(sql`${loginThrottles.updatedAt} < ${daysBefore(now, 1).toISOString()}::timestamptz and (${loginThrottles.lockedUntil} is null or ${loginThrottles.lockedUntil} < ${now.toISOString()}::timestamptz)`)
        .returning({ key: loginThrottles.key }),
    ),
    twoFactorChallenges: await count(db.delete(twoFactorChallenges).where(lt(twoFactorChallenges.expiresAt, tokenCutoff)).returning({ id: twoFactorChallenges.id })),
    dataExports: await expireDataExports(db, now, (blobName) => exportFiles.remove(blobName)),
    stalledDataExports: await failOverlongDataExports(db, now, exportFiles),
    accountTokens: await count(db.delete(accountTokens).where(lt(accountTokens.expiresAt, tokenCutoff)).returning({ id: accountTokens.id })),
    imports: await expireImports(db, now, retention.importDays ?? 30, exportFiles),
    generationDocuments: await expireGenerationDocuments(db, now, retention.importDays ?? 30, exportFiles),
  };
}
