import { randomBytes } from "node:crypto";
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { accountTokens, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { composeEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { hashToken } from "../shared/token-hash.js";
import { type AccountTokenErrorCode, type AccountTokenRow, issueAccountToken, lockAccountToken, markAccountTokenUsed, peekAccountToken } from "./account-tokens.js";
import { hashPassword, type ScryptParams } from "./password-hash.js";
import { type IssuedRefreshToken, issueRefreshToken } from "./refresh-tokens.js";

// Account invitations create a user: an administrator invites an address that has no account. They are not
// the course invitations of domain/enrollment/invitations.ts, which enroll an existing user in one course.

export interface AccountInvitation {
  id: string;
  email: string;
  displayName: string | null;
  invitedByUserId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

const toInvitation = (row: AccountTokenRow): AccountInvitation => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  invitedByUserId: row.createdByUserId,
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
});

const nameFor = (email: string, displayName: string | null | undefined): string => displayName || (email.split("@")[0] ?? email).slice(0, 100);

/**
 * Invites an address to create an account; a pending invitation of the same address is replaced (its link stops
 * working). The link goes out in an email recorded here, never in an event. Run it in a transaction.
 */
export async function inviteUser(
  ctx: DomainContext,
  input: { email: string; displayName?: string },
  options: { ttlHours: number; appUrl: string },
): Promise<Result<AccountInvitation, "EMAIL_TAKEN">> {
  const [existing] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (existing) return fail("EMAIL_TAKEN", "An account with this email address exists.");
  const issued = await issueAccountToken(ctx, {
    purpose: "account-invitation",
    email: input.email,
    userId: null,
    ttlMs: options.ttlHours * 3_600_000,
    displayName: input.displayName ?? null,
  });
  // The invitee has no language setting yet: English, as for every account at first.
  await recordDirectEmails(ctx, [
    composeEmail("account-invitation", "en", input.email, { appUrl: options.appUrl, name: nameFor(input.email, input.displayName), token: issued.token, expiresAt: issued.expiresAt.toUTCString() }),
  ], { inbox: false });
  await recordAudit(ctx, { action: "user.invited", targetType: "account-invitation", targetId: issued.id, details: { email: input.email } });
  const now = ctx.now();
  return ok({ id: issued.id, email: input.email, displayName: input.displayName ?? null, invitedByUserId: ctx.actor.userId, createdAt: now, expiresAt: issued.expiresAt });
}

/** A user an import created (no password yet) who is to get an invitation to choose one. */
export interface CreatedInvitee {
  userId: string;
  email: string;
  displayName: string;
  locale: string;
}

/**
 * Invites users created without a password (by an import) to choose one: a batch at a time, set-based. Their
 * pending invitations are superseded in one update and the new tokens inserted in one statement (no per-address
 * advisory lock, as inviteUser takes: an issue racing for the same address makes ours do nothing, and that issue's
 * own link went out). The links go out in emails recorded here, sent after commit (or by the retry timer); never in
 * an event. Returns how many were invited. Run it in the transaction that created the users.
 */
export async function inviteCreatedUsers(ctx: DomainContext, invitees: readonly CreatedInvitee[], options: { ttlHours: number; appUrl: string }): Promise<number> {
  if (invitees.length === 0) return 0;
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + options.ttlHours * 3_600_000);
  const emails = invitees.map((i) => i.email);
  await ctx.db
    .update(accountTokens)
    .set({ supersededAt: now })
    .where(and(pending(now), sql`${accountTokens.email} = any(${sql.param(emails)}::text[])`));
  const issued = invitees.map((invitee) => ({ invitee, id: ctx.newId(), token: randomBytes(32).toString("base64url") }));
  // One array per column (unnest): far cheaper to build and bind than hundreds of VALUES tuples.
  const inserted = await ctx.db.execute<{ id: string }>(sql`
    insert into ${accountTokens} (id, purpose, token_hash, user_id, email, display_name, created_by_user_id, created_at, expires_at)
    select v.id, 'account-invitation', v.token_hash, v.user_id, v.email, v.display_name, ${ctx.actor.userId}::uuid, ${now.toISOString()}::timestamptz, ${expiresAt.toISOString()}::timestamptz
    from unnest(${sql.param(issued.map((i) => i.id))}::uuid[], ${sql.param(issued.map((i) => hashToken(i.token)))}::text[],
      ${sql.param(issued.map((i) => i.invitee.userId))}::uuid[], ${sql.param(issued.map((i) => i.invitee.email))}::text[],
      ${sql.param(issued.map((i) => i.invitee.displayName))}::text[]) as v(id, token_hash, user_id, email, display_name)
    on conflict do nothing
    returning id`);
  const kept = new Set(inserted.map((r) => r.id));
  const expires = expiresAt.toUTCString();
  await recordDirectEmails(
    ctx,
    issued
      .filter(({ id }) => kept.has(id))
      .map(({ invitee, token }) => composeEmail("account-invitation", invitee.locale, invitee.email, { appUrl: options.appUrl, name: invitee.displayName, token, expiresAt: expires })),
    { inbox: false },
  );
  return kept.size;
}

const pending = (now: Date) =>
  and(eq(accountTokens.purpose, "account-invitation"), isNull(accountTokens.usedAt), isNull(accountTokens.supersededAt), gt(accountTokens.expiresAt, now));

/** Pending (unused, unrevoked, unexpired) invitations in id order; limit + 1 rows so the caller can tell whether a next page exists. */
export async function listAccountInvitations(db: Executor, q: { now: Date; limit: number; afterId?: string }): Promise<AccountInvitation[]> {
  const rows = await db
    .select()
    .from(accountTokens)
    .where(and(pending(q.now), q.afterId ? gt(accountTokens.id, q.afterId) : undefined))
    .orderBy(asc(accountTokens.id))
    .limit(q.limit + 1);
  return rows.map(toInvitation);
}

/** Withdraws a pending invitation: its link stops working. */
export async function revokeAccountInvitation(ctx: DomainContext, invitationId: string): Promise<Result<void, "ACCOUNT_INVITATION_NOT_FOUND">> {
  const revoked = await ctx.db
    .update(accountTokens)
    .set({ supersededAt: ctx.now() })
    .where(and(eq(accountTokens.id, invitationId), pending(ctx.now())))
    .returning({ email: accountTokens.email });
  if (revoked.length === 0) return fail("ACCOUNT_INVITATION_NOT_FOUND", "No pending account invitation has this id.");
  await recordAudit(ctx, { action: "user.invitation-revoked", targetType: "account-invitation", targetId: invitationId, details: { email: revoked[0]?.email } });
  return ok(undefined);
}

/**
 * The invitee follows the link: the account is created with the chosen password (or, for a user an import created,
 * that account gets it), its address confirmed (the link reached it), and a session starts. Runs on the pool: the token is looked up without a lock first (a forged, used
 * or expired one costs no hashing), the password is hashed holding no connection or lock, and then a transaction
 * locks the token row and checks it again, so a second use waits and finds it used; an address that got an account
 * meanwhile is refused and nothing changes.
 */
export async function acceptAccountInvitation(
  ctx: DomainContext,
  input: { token: string; password: string; displayName?: string },
  options: { kdf: ScryptParams; refreshTtlSeconds: number },
): Promise<Result<{ userId: string; refresh: IssuedRefreshToken }, AccountTokenErrorCode | "EMAIL_TAKEN">> {
  const seen = await peekAccountToken(ctx, "account-invitation", input.token);
  if (!seen.ok) return seen;
  const passwordHash = await hashPassword(input.password, options.kdf);
  return ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const locked = await lockAccountToken(txCtx, "account-invitation", input.token);
    if (!locked.ok) return locked;
    const row = locked.value;
    const now = ctx.now();
    // An invitation that names its user (an import created the account, without a password) completes that
    // account, if it still has no password and is neither deactivated nor erased; any other creates the account.
    const [user] = row.userId
      ? await tx
          .update(users)
          .set({
            passwordHash,
            passwordChangedAt: now,
            emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.toISOString()}::timestamptz)`,
            ...(input.displayName ? { displayName: input.displayName } : {}),
            updatedAt: now,
          })
          .where(and(eq(users.id, row.userId), eq(users.email, row.email), isNull(users.passwordHash), isNull(users.disabledAt), isNull(users.erasedAt)))
          .returning()
      : await tx
          .insert(users)
          .values({
            id: ctx.newId(),
            email: row.email,
            displayName: nameFor(row.email, input.displayName ?? row.displayName),
            passwordHash,
            passwordChangedAt: now,
            emailVerifiedAt: now,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing({ target: users.email })
          .returning();
    if (!user) {
      if (row.userId) return fail("EMAIL_TAKEN", "This account has a password already or was deactivated; sign in, or reset its password.");
      return fail("EMAIL_TAKEN", "An account with this email address was created meanwhile; sign in, or reset its password.");
    }
    await markAccountTokenUsed(txCtx, row.id);
    const actor = { ...txCtx, actor: { ...ctx.actor, userId: user.id } };
    await recordAudit(actor, { action: "user.invitation-accepted", targetType: "user", targetId: user.id, details: { invitationId: row.id, invitedByUserId: row.createdByUserId } });
    await recordEvent(actor, { type: "user.registered", aggregateType: "user", aggregateId: user.id, data: { userId: user.id, email: user.email, displayName: user.displayName } });
    const refresh = await issueRefreshToken(actor, { userId: user.id, ttlSeconds: options.refreshTtlSeconds });
    await recordAudit(actor, { action: "auth.login-succeeded", targetType: "user", targetId: user.id, details: { familyId: refresh.familyId, via: "account-invitation" } });
    return ok({ userId: user.id, refresh });
  });
}
