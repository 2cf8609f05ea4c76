import { createHash, randomBytes } from "node:crypto";
import { and, asc, desc, eq, lte } from "drizzle-orm";
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
import { type BlobRemover, erasePersonalData } from "./erasure.js";

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

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

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

/** The user to erase, locked, or why they cannot be. */
async function erasableUser(ctx: DomainContext, userId: string): Promise<Result<typeof users.$inferSelect, ErasureErrorCode>> {
  const [user] = await ctx.db.select().from(users).where(eq(users.id, userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  if (user.erasedAt) return fail("USER_ALREADY_ERASED", "This user's personal data was erased already.");
  // An admin's erasure would leave the platform's audit trail without its actor's name; demote them first.
  if (user.isAdmin) return fail("CANNOT_ERASE_ADMIN", "Remove the user's admin role first.");
  const [scheduled] = await ctx.db.select().from(erasureRequests).where(and(eq(erasureRequests.userId, userId), eq(erasureRequests.status, "scheduled")));
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
 */
export async function requestErasure(
  ctx: DomainContext,
  files: BlobRemover,
  input: EraseInput,
  policy: ErasePolicy,
): Promise<Result<{ erasure: ErasureView; immediate: boolean }, ErasureErrorCode>> {
  if (input.immediate && !input.by.isAdmin) return fail("IMMEDIATE_ERASURE_ADMIN_ONLY", "Only an admin may erase at once; ask for the scheduled erasure.");
  const found = await erasableUser(ctx, input.userId);
  if (!found.ok) return found;
  const user = found.value;
  if (input.by.userId === user.id) {
    const refused = await confirmed(user, input, policy.kdf);
    if (refused) return refused;
  }
  const now = ctx.now();
  const id = ctx.newId();
  if (input.immediate) {
    const [row] = await ctx.db
      .insert(erasureRequests)
      .values({ id, userId: user.id, status: "completed", requestedByUserId: input.by.userId, dueAt: now, completedAt: now, createdAt: now, updatedAt: now })
      .returning();
    await erasePersonalData(ctx, files, user.id);
    return ok({ erasure: viewOf(row as RequestRow), immediate: true });
  }
  const dueAt = new Date(now.getTime() + policy.graceMs);
  const token = randomBytes(32).toString("base64url");
  const [row] = await ctx.db
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
  if (user.disabledAt === null) await ctx.db.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, user.id));
  const revokedSessions = await revokeUserSessions(ctx.db, user.id, "erasure-scheduled", now);
  await recordAudit(ctx, { action: "privacy.erasure-scheduled", targetType: "user", targetId: user.id, details: { erasureId: id, dueAt: dueAt.toISOString(), revokedSessions } });
  // Direct, never through an event: the link carries a token that cancels the erasure.
  const template = input.by.userId === user.id ? "erasure-scheduled" : "erasure-scheduled-by-admin";
  await recordDirectEmails(ctx, [composeEmail(template, user.locale, user.email, { name: user.displayName, dueAt: formatDue(dueAt), appUrl: policy.appUrl, token })]);
  return ok({ erasure: viewOf(row as RequestRow), immediate: false });
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
 * a request whose timer was lost). Safe to repeat and to race: the request's row lock lets one through, and a
 * request that was cancelled, or is completed already, changes nothing. Called before it is due, it throws, so
 * the activity is retried rather than the request left scheduled with the account disabled.
 */
export async function eraseWhenDue(ctx: DomainContext, files: BlobRemover, requestId: string): Promise<{ erased: boolean }> {
  const [peek] = await ctx.db.select({ userId: erasureRequests.userId }).from(erasureRequests).where(eq(erasureRequests.id, requestId));
  if (!peek) return { erased: false };
  const [user] = await ctx.db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, peek.userId)).for("update");
  const [row] = await ctx.db.select().from(erasureRequests).where(eq(erasureRequests.id, requestId)).for("update");
  const now = ctx.now();
  if (!row || row.status !== "scheduled") return { erased: false };
  // The durable timer fires at the due time by the orchestration's clock; a little skew against ours is no reason to wait.
  if (row.dueAt.getTime() > now.getTime() + DUE_SKEW_MS) throw new Error(`erasure ${row.id} is not due before ${row.dueAt.toISOString()}`);
  // Made an admin during the grace period: the erasure is called off rather than carried out (demote them first).
  if (user?.isAdmin) {
    await cancel(ctx, row);
    return { erased: false };
  }
  await ctx.db.update(erasureRequests).set({ status: "completed", completedAt: now, cancelTokenHash: null, updatedAt: now }).where(eq(erasureRequests.id, row.id));
  const outcome = await erasePersonalData(ctx, files, row.userId);
  return { erased: outcome?.erased ?? false };
}

/** Scheduled requests past their due time, oldest first: housekeeping carries them out (see eraseWhenDue). */
export async function overdueErasures(db: Executor, now: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .select({ id: erasureRequests.id })
    .from(erasureRequests)
    .where(and(eq(erasureRequests.status, "scheduled"), lte(erasureRequests.dueAt, now)))
    .orderBy(asc(erasureRequests.dueAt))
    .limit(limit);
  return rows.map((r) => r.id);
}
