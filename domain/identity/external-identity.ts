import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
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

async function linkedUser(db: Executor, claims: ExternalClaims): Promise<string | undefined> {
  const [known] = await db
    .select({ userId: externalIdentities.userId })
    .from(externalIdentities)
    .where(and(eq(externalIdentities.issuer, claims.issuer), eq(externalIdentities.subject, claims.subject)));
  return known?.userId;
}

/**
 * The local user for an external (issuer, subject), created on first sight. It is never merged into an
 * existing account: local registration does not prove address ownership, so a match by email could hand
 * the external user someone else's account (or the reverse). The address is kept only when the issuer
 * vouches for it and no account has it; otherwise the user gets a placeholder address.
 */
export async function userForExternalIdentity(ctx: DomainContext, claims: ExternalClaims): Promise<string> {
  const known = await linkedUser(ctx.db, claims);
  if (known) return known;

  return ctx.db.transaction(async (tx) => {
    // Concurrent first sign-ins of one subject queue here, and all but the first find the link.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${claims.issuer}|${claims.subject}`}, 0))`);
    const raced = await linkedUser(tx, claims);
    if (raced) return raced;

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
