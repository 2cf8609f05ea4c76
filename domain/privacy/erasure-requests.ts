import { randomBytes } from "node:crypto";
import { and, asc, desc, eq, isNull, lte, or } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { type ErasureStatus, erasureRequests, users } from "../db/schema/index.js";
import { normalizeEmail } from "../identity/email.js";
import { type ScryptParams, verifyPassword } from "../identity/password-hash.js";
import { revokeUserSessions } from "../identity/refresh-tokens.js";
import { composeEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { ErasureErrorCode } from "./erasure.errors.js";
import { type BlobRemover, type ErasureKeys, eraseUser } from "./erasure.js";
import { hashToken } from "../shared/token-hash.js";

export interface ErasureView {
  id: string;
  userId: string;
  status: ErasureStatus;
  dueAt: Date;
  requestedAt: Date;
  cancelledAt: Date | null;
  completedAt: Date | null;
}

type RequestRow = typeof erasureRequests.$inferSelect;
const viewOf = (r: RequestRow): ErasureView => ({
  id: r.id,
  userId: r.userId,
  status: r.status,
  dueAt: r.dueAt,
  requestedAt: r.createdAt,
  cancelledAt: r.cancelledAt,
  completedAt: r.completedAt,
});


/** Who asks: the user themself or an admin (the route lets no one else through). */
export interface Requester {
  userId: string;
  isAdmin: boolean;
}

export interface EraseInput {
  userId: string;
  by: Requester;
  /** The user themself confirms with their password, or (an account without one) by typing their email address. */
  currentPassword?: string;
  confirm?: string;
  /** Admins only: erase now, without a grace period. */
  immediate?: boolean;
}

export interface ErasePolicy {
  graceMs: number;
  kdf: ScryptParams;
  /** The web app's base URL, for the cancellation link. */
  appUrl: string;
}

type Refusal = Result<never, ErasureErrorCode>;

/** The user to erase (locked when `lock`), or why they cannot be. */
async function erasableUser(db: Executor, userId: string, lock: boolean): Promise<Result<typeof users.$inferSelect, ErasureErrorCode>> {
  const query = db.select().from(users).where(eq(users.id, userId));
  const [user] = lock ? await query.for("update") : await query;
  if (!user) return fail("USER_NOT_FOUND");
  if (user.erasedAt) return fail("USER_ALREADY_ERASED", "This user's personal data was erased already.");
  // An admin's erasure would leave the platform's audit trail without its actor's name; demote them first.
  if (user.isAdmin) return fail("CANNOT_ERASE_ADMIN", "Remove the user's admin role first.");
  const [scheduled] = await db.select().from(erasureRequests).where(and(eq(erasureRequests.userId, userId), eq(erasureRequests.status, "scheduled")));
  if (scheduled) return fail("ERASURE_ALREADY_SCHEDULED", "An erasure of this user is scheduled already.", { dueAt: scheduled.dueAt.toISOString() });
  return ok(user);
}

async function confirmed(user: typeof users.$inferSelect, input: EraseInput, kdf: ScryptParams): Promise<Refusal | null> {
  if (user.passwordHash) {
    if (input.currentPassword === undefined) return fail("ERASURE_CONFIRMATION_REQUIRED", "Confirm with your current password (currentPassword).");
    if (!(await verifyPassword(input.currentPassword, user.passwordHash, kdf)).ok) return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
    return null;
  }
  if (input.confirm === undefined || normalizeEmail(input.confirm) !== user.email) {
    return fail("ERASURE_CONFIRMATION_REQUIRED", "This account has no password: confirm by sending your email address as confirm.");
  }
  return null;
}

const DUE_SKEW_MS = 60_000;

const formatDue = (at: Date) => `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/**
 * Asks for a user's erasure. The user themself confirms (password, or their address for an account without one);
 * the erasure is then scheduled after the grace period: the account is disabled and signed out at once, and an
 * email says when it happens and carries the link that cancels it (the account being disabled, that link is how
 * its owner cancels). An admin may erase at once (`immediate`), or schedule in the same way.
 * `ctx.db` is the pool: the password is checked holding no lock or connection through the KDF, then the user row is
 * locked in a transaction and the hash compared again (a password changed meanwhile refuses). An immediate erasure
 * is recorded (completed) in that transaction, then carried out by eraseUser, its files outside any transaction; a
 * crash in between leaves it to housekeeping (overdueErasures).
 */
export async function requestErasure(
  ctx: DomainContext,
  files: BlobRemover,
  input: EraseInput,
  policy: ErasePolicy,
  keys: ErasureKeys,
): Promise<Result<{ erasure: ErasureView; immediate: boolean }, ErasureErrorCode>> {
  if (input.immediate && !input.by.isAdmin) return fail("IMMEDIATE_ERASURE_ADMIN_ONLY", "Only an admin may erase at once; ask for the scheduled erasure.");
  const seen = await erasableUser(ctx.db, input.userId, false);
  if (!seen.ok) return seen;
  const self = input.by.userId === input.userId;
  if (self) {
    const refused = await confirmed(seen.value, input, policy.kdf);
    if (refused) return refused;
  }
  const recorded = await ctx.db.transaction(async (tx): Promise<Result<{ erasure: ErasureView; immediate: boolean }, ErasureErrorCode>> => {
    const txCtx = { ...ctx, db: tx };
    const found = await erasableUser(tx, input.userId, true);
    if (!found.ok) return found;
    const user = found.value;
    if (self && (user.passwordHash !== seen.value.passwordHash || user.email !== seen.value.email)) {
      return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
    }
    const now = ctx.now();
    const id = ctx.newId();
    if (input.immediate) {
      const [row] = await tx
        .insert(erasureRequests)
        .values({ id, userId: user.id, status: "completed", requestedByUserId: input.by.userId, dueAt: now, completedAt: now, createdAt: now, updatedAt: now })
        .returning();
      // Disabled and signed out now; the erasure itself follows at once, outside this transaction.
      if (user.disabledAt === null) await tx.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, user.id));
      await revokeUserSessions(tx, user.id, "erasure", now);
      return ok({ erasure: viewOf(row as RequestRow), immediate: true });
    }
    const dueAt = new Date(now.getTime() + policy.graceMs);
    const token = randomBytes(32).toString("base64url");
    const [row] = await tx
      .insert(erasureRequests)
      .values({
        id,
        userId: user.id,
        status: "scheduled",
        requestedByUserId: input.by.userId,
        dueAt,
        disabledAccount: user.disabledAt === null,
        cancelTokenHash: hashToken(token),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (user.disabledAt === null) await tx.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, user.id));
    const revokedSessions = await revokeUserSessions(tx, user.id, "erasure-scheduled", now);
    await recordAudit(txCtx, { action: "privacy.erasure-scheduled", targetType: "user", targetId: user.id, details: { erasureId: id, dueAt: dueAt.toISOString(), revokedSessions } });
    // Direct, never through an event: the link carries a token that cancels the erasure.
    const template = self ? "erasure-scheduled" : "erasure-scheduled-by-admin";
    await recordDirectEmails(txCtx, [composeEmail(template, user.locale, user.email, { name: user.displayName, dueAt: formatDue(dueAt), appUrl: policy.appUrl, token })]);
    return ok({ erasure: viewOf(row as RequestRow), immediate: false });
  });
  if (recorded.ok && recorded.value.immediate) await eraseUser(ctx, files, input.userId, keys);
  return recorded;
}

async function cancel(ctx: DomainContext, row: RequestRow): Promise<ErasureView> {
  const now = ctx.now();
  const [updated] = await ctx.db
    .update(erasureRequests)
    .set({ status: "cancelled", cancelledAt: now, cancelledByUserId: ctx.actor.userId, cancelTokenHash: null, updatedAt: now })
    .where(eq(erasureRequests.id, row.id))
    .returning();
  // Enabled again only if scheduling disabled it, and no one disabled it since (an admin's deactivation stays).
  if (row.disabledAccount) await ctx.db.update(users).set({ disabledAt: null, updatedAt: now }).where(and(eq(users.id, row.userId), eq(users.disabledAt, row.createdAt)));
  await recordAudit(ctx, { action: "privacy.erasure-cancelled", targetType: "user", targetId: row.userId, details: { erasureId: row.id } });
  return viewOf(updated as RequestRow);
}

/** The user (signed in, e.g. after an admin enabled the account) or an admin cancels a scheduled erasure. */
export async function cancelErasure(ctx: DomainContext, userId: string): Promise<Result<ErasureView, ErasureErrorCode>> {
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  const [row] = await ctx.db.select().from(erasureRequests).where(and(eq(erasureRequests.userId, userId), eq(erasureRequests.status, "scheduled"))).for("update");
  if (!row) return fail("ERASURE_NOT_SCHEDULED", "No erasure of this user is scheduled.");
  return ok(await cancel(ctx, row));
}

/** The emailed link cancels without a sign-in (the account is disabled meanwhile); it works once, while scheduled. */
export async function cancelErasureByToken(ctx: DomainContext, token: string): Promise<Result<ErasureView, ErasureErrorCode>> {
  const [found] = await ctx.db.select({ userId: erasureRequests.userId }).from(erasureRequests).where(eq(erasureRequests.cancelTokenHash, hashToken(token)));
  // The user row is locked first, in the same order as requestErasure and the erasure itself.
  if (found) await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, found.userId)).for("update");
  const [row] = await ctx.db
    .select()
    .from(erasureRequests)
    .where(and(eq(erasureRequests.cancelTokenHash, hashToken(token)), eq(erasureRequests.status, "scheduled")))
    .for("update");
  if (!row) return fail("TOKEN_INVALID", "The link is not valid, or the erasure is no longer scheduled.");
  return ok(await cancel(ctx, { ...row, cancelTokenHash: null }));
}

/** The user's newest erasure request. */
export async function erasureOf(db: Executor, userId: string): Promise<Result<ErasureView, ErasureErrorCode>> {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) return fail("USER_NOT_FOUND");
  const [row] = await db.select().from(erasureRequests).where(eq(erasureRequests.userId, userId)).orderBy(desc(erasureRequests.createdAt), desc(erasureRequests.id)).limit(1);
  return row ? ok(viewOf(row)) : fail("ERASURE_NOT_FOUND", "No erasure was asked for this user.");
}

/**
 * Carries out a scheduled erasure once its grace period is over (the durable timer's activity, and housekeeping for
 * a request whose timer was lost). `ctx.db` is the pool. A short transaction first claims the request (locks the
 * user and the request; a request cancelled meanwhile, or no longer erasable, changes nothing): once completed, no
 * cancellation can win, so no file is deleted for an erasure that does not happen. Then eraseUser deletes the files
 * outside any transaction and erases the database in its own. A completed request whose user is not erased yet (a
 * crash between the two) is finished by a retry or by housekeeping. Called before it is due, it throws, so the
 * activity is retried rather than the request left scheduled with the account disabled.
 */
export async function eraseWhenDue(ctx: DomainContext, files: BlobRemover, requestId: string, keys: ErasureKeys): Promise<{ erased: boolean }> {
  const claimed = await ctx.db.transaction(async (tx) => {
    const [peek] = await tx.select({ userId: erasureRequests.userId }).from(erasureRequests).where(eq(erasureRequests.id, requestId));
    if (!peek) return null;
    const [user] = await tx.select({ isAdmin: users.isAdmin, erasedAt: users.erasedAt }).from(users).where(eq(users.id, peek.userId)).for("update");
    const [row] = await tx.select().from(erasureRequests).where(eq(erasureRequests.id, requestId)).for("update");
    const now = ctx.now();
    if (!row || !user || row.status === "cancelled") return null;
    if (row.status === "completed") return user.erasedAt ? null : row.userId;
    // The durable timer fires at the due time by the orchestration's clock; a little skew against ours is no reason to wait.
    if (row.dueAt.getTime() > now.getTime() + DUE_SKEW_MS) throw new Error(`erasure ${row.id} is not due before ${row.dueAt.toISOString()}`);
    // Made an admin during the grace period: the erasure is called off rather than carried out (demote them first).
    if (user.isAdmin) {
      await cancel({ ...ctx, db: tx }, row);
      return null;
    }
    await tx.update(erasureRequests).set({ status: "completed", completedAt: now, cancelTokenHash: null, updatedAt: now }).where(eq(erasureRequests.id, row.id));
    return row.userId;
  });
  if (!claimed) return { erased: false };
  const outcome = await eraseUser(ctx, files, claimed, keys);
  return { erased: outcome?.erased ?? false };
}

/**
 * Requests housekeeping carries out, oldest first (see eraseWhenDue): scheduled ones past their due time, and
 * completed ones whose user is not erased yet (the erasure was cut off after its request was claimed).
 */
export async function overdueErasures(db: Executor, now: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .select({ id: erasureRequests.id })
    .from(erasureRequests)
    .innerJoin(users, eq(users.id, erasureRequests.userId))
    .where(
      or(
        and(eq(erasureRequests.status, "scheduled"), lte(erasureRequests.dueAt, now)),
        and(eq(erasureRequests.status, "completed"), isNull(users.erasedAt)),
      ),
    )
    .orderBy(asc(erasureRequests.dueAt))
    .limit(limit);
  return rows.map((r) => r.id);
}
