import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { refreshTokens } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

/** One signed-in session (a refresh-token family) as its owner sees it. */
export interface SessionView {
  id: string;
  startedAt: Date;
  /** When its refresh token was last exchanged (or the session started). */
  lastUsedAt: Date;
  expiresAt: Date;
  clientIp: string | null;
  /** The session the request came with. */
  current: boolean;
}

/** A user's live sessions (a family with an unrevoked, unexpired token), the most recently used first. */
export async function listSessions(db: Executor, userId: string, currentSessionId: string | null, now: Date): Promise<SessionView[]> {
  const t = refreshTokens;
  // The family's live token carries its latest use; the family's first token, its start.
  const rows = await db
    .select({
      id: t.familyId,
      startedAt: sql<Date>`(select min(f.created_at) from ${refreshTokens} f where f.family_id = ${t.familyId})`.mapWith(t.createdAt),
      lastUsedAt: t.createdAt,
      expiresAt: t.expiresAt,
      clientIp: t.clientIp,
    })
    .from(t)
    .where(and(eq(t.userId, userId), isNull(t.revokedAt), isNull(t.rotatedAt), gt(t.expiresAt, now)))
    .orderBy(desc(t.createdAt))
    .limit(200);
  return rows.map((r) => ({ ...r, current: r.id === currentSessionId }));
}

/** Ends one of the user's own sessions; another user's session is not found (its existence is not revealed). */
export async function endSession(ctx: DomainContext, userId: string, sessionId: string): Promise<Result<null, "SESSION_NOT_FOUND">> {
  // One statement: only the user's own live tokens of that family are ended, and none means it is not theirs.
  const ended = await ctx.db
    .update(refreshTokens)
    .set({ revokedAt: ctx.now(), revokedReason: "ended-by-user" })
    .where(and(eq(refreshTokens.familyId, sessionId), eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id });
  if (ended.length === 0) return fail("SESSION_NOT_FOUND", "No such session of yours is active.");
  await recordAudit(ctx, { action: "auth.session-ended", actorUserId: userId, targetType: "user", targetId: userId, details: { familyId: sessionId } });
  return ok(null);
}
