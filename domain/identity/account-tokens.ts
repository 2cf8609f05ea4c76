import { randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { type AccountTokenPurpose, accountTokens } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { hashToken } from "../shared/token-hash.js";

/** Why an emailed link does not work; the same codes serve verification, password reset and invitations. */
export type AccountTokenErrorCode = "TOKEN_INVALID" | "TOKEN_USED" | "TOKEN_EXPIRED";

export type AccountTokenRow = typeof accountTokens.$inferSelect;


export interface IssuedAccountToken {
  id: string;
  token: string;
  expiresAt: Date;
}

/**
 * Issues a single-use token for (purpose, address), superseding every unused earlier one, so only the newest
 * link works. Issues for one address queue on an advisory lock (the partial unique index would refuse the loser
 * of a race otherwise). Run it in a transaction.
 */
export async function issueAccountToken(
  ctx: DomainContext,
  input: { purpose: AccountTokenPurpose; email: string; userId: string | null; ttlMs: number; displayName?: string | null },
): Promise<IssuedAccountToken> {
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`account-token|${input.purpose}|${input.email}`}, 0))`);
  const now = ctx.now();
  await supersedeAccountTokens(ctx, input.purpose, input.email);
  const token = randomBytes(32).toString("base64url");
  const id = ctx.newId();
  const expiresAt = new Date(now.getTime() + input.ttlMs);
  await ctx.db.insert(accountTokens).values({
    id,
    purpose: input.purpose,
    tokenHash: hashToken(token),
    userId: input.userId,
    email: input.email,
    displayName: input.displayName ?? null,
    createdByUserId: ctx.actor.userId,
    createdAt: now,
    expiresAt,
  });
  return { id, token, expiresAt };
}

/** Kills the unused tokens of (purpose, address); returns how many. */
export async function supersedeAccountTokens(ctx: DomainContext, purpose: AccountTokenPurpose, email: string): Promise<number> {
  const rows = await ctx.db
    .update(accountTokens)
    .set({ supersededAt: ctx.now() })
    .where(and(eq(accountTokens.purpose, purpose), eq(accountTokens.email, email), isNull(accountTokens.usedAt), isNull(accountTokens.supersededAt)))
    .returning({ id: accountTokens.id });
  return rows.length;
}

/**
 * Finds a live token of `purpose` and locks its row: two requests redeeming one token queue here, and the second
 * finds it used. Nothing is written; the caller marks it used (`markAccountTokenUsed`) once every other check
 * passed, in the same transaction, so a refused redemption changes nothing.
 */
export function lockAccountToken(ctx: DomainContext, purpose: AccountTokenPurpose, token: string): Promise<Result<AccountTokenRow, AccountTokenErrorCode>> {
  return liveAccountToken(ctx, purpose, token, true);
}

/**
 * The same checks without a lock, on the pool: a redemption refuses an unknown, used or expired token this cheaply
 * before it spends a password hash, then locks and checks again (`lockAccountToken`) in its transaction.
 */
export function peekAccountToken(ctx: DomainContext, purpose: AccountTokenPurpose, token: string): Promise<Result<AccountTokenRow, AccountTokenErrorCode>> {
  return liveAccountToken(ctx, purpose, token, false);
}

async function liveAccountToken(ctx: DomainContext, purpose: AccountTokenPurpose, token: string, lock: boolean): Promise<Result<AccountTokenRow, AccountTokenErrorCode>> {
  const query = ctx.db
    .select()
    .from(accountTokens)
    .where(and(eq(accountTokens.tokenHash, hashToken(token)), eq(accountTokens.purpose, purpose)));
  const [row] = lock ? await query.for("update") : await query;
  if (!row) return fail("TOKEN_INVALID", "This link is not valid. Use the link from the latest email.");
  if (row.usedAt) return fail("TOKEN_USED", "This link was used already.");
  if (row.supersededAt) return fail("TOKEN_INVALID", "This link was replaced by a newer one or withdrawn. Use the link from the latest email.");
  if (row.expiresAt.getTime() <= ctx.now().getTime()) return fail("TOKEN_EXPIRED", "This link has expired. Ask for a new one.");
  return ok(row);
}

export async function markAccountTokenUsed(ctx: DomainContext, id: string): Promise<void> {
  await ctx.db.update(accountTokens).set({ usedAt: ctx.now() }).where(eq(accountTokens.id, id));
}
