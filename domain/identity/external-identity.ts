import { createHash } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { externalIdentities, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { normalizeEmail } from "./email.js";

export interface ExternalClaims {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
}

async function linkedUser(db: Executor, claims: ExternalClaims): Promise<{ userId: string; email: string; emailVerified: boolean } | undefined> {
  const [known] = await db
    .select({ userId: externalIdentities.userId, email: users.email, emailVerified: sql<boolean>`${users.emailVerifiedAt} is not null` })
    .from(externalIdentities)
    .innerJoin(users, eq(users.id, externalIdentities.userId))
    .where(and(eq(externalIdentities.issuer, claims.issuer), eq(externalIdentities.subject, claims.subject)));
  return known;
}

/**
 * The issuer now vouches for the address the account already has: it counts as confirmed from now on. Only that
 * address: a placeholder is never swapped for a claimed one here (another account may have it).
 */
async function confirmVouchedAddress(ctx: DomainContext, known: { userId: string; email: string; emailVerified: boolean }, claims: ExternalClaims): Promise<void> {
  if (known.emailVerified || claims.emailVerified !== true || !claims.email || normalizeEmail(claims.email) !== known.email) return;
  const now = ctx.now();
  const confirmed = await ctx.db
    .update(users)
    .set({ emailVerifiedAt: now, updatedAt: now })
    .where(and(eq(users.id, known.userId), eq(users.email, known.email), isNull(users.emailVerifiedAt)))
    .returning({ id: users.id });
  if (confirmed.length > 0) {
    await recordAudit(ctx, { action: "user.email-verified", actorUserId: known.userId, targetType: "user", targetId: known.userId, details: { via: "issuer", issuer: claims.issuer } });
  }
}

/**
 * The local user for an external (issuer, subject), created on first sight. It is never merged into an
 * existing account: local registration does not prove address ownership, so a match by email could hand
 * the external user someone else's account (or the reverse). The address is kept only when the issuer
 * vouches for it and no account has it; otherwise the user gets a placeholder address.
 */
export async function userForExternalIdentity(ctx: DomainContext, claims: ExternalClaims): Promise<string> {
  const known = await linkedUser(ctx.db, claims);
  if (known) {
    await confirmVouchedAddress(ctx, known, claims);
    return known.userId;
  }

  return ctx.db.transaction(async (tx) => {
    // Concurrent first sign-ins of one subject queue here, and all but the first find the link.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${claims.issuer}|${claims.subject}`}, 0))`);
    const raced = await linkedUser(tx, claims);
    if (raced) return raced.userId;

    const now = ctx.now();
    const userId = ctx.newId();
    const placeholder = `ext-${createHash("sha256").update(`${claims.issuer}|${claims.subject}`).digest("hex").slice(0, 24)}@users.invalid`;
    const verifiedEmail = claims.email && claims.emailVerified === true ? normalizeEmail(claims.email) : undefined;
    const displayName = claims.name?.trim().slice(0, 100) || verifiedEmail?.split("@")[0] || "External user";
    const created = verifiedEmail
      ? // The issuer vouches for the address: it counts as confirmed (a placeholder address never does).
        await tx.insert(users).values({ id: userId, email: verifiedEmail, displayName, emailVerifiedAt: now, createdAt: now, updatedAt: now }).onConflictDoNothing().returning({ id: users.id })
      : [];
    if (created.length === 0) {
      await tx.insert(users).values({ id: userId, email: placeholder, displayName, createdAt: now, updatedAt: now });
    }
    await tx.insert(externalIdentities).values({ issuer: claims.issuer, subject: claims.subject, userId, createdAt: now, lastSeenAt: now });
    await recordAudit({ ...ctx, db: tx }, { action: "user.external-linked", actorUserId: userId, targetType: "user", targetId: userId, details: { issuer: claims.issuer } });
    return userId;
  });
}
