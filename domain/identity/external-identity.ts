import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
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

/**
 * The local user for an external (issuer, subject), created on first sight. An existing local account is
 * linked only when the issuer vouches for the email address; otherwise addresses could be hijacked.
 */
export async function userForExternalIdentity(ctx: DomainContext, claims: ExternalClaims): Promise<string> {
  const [known] = await ctx.db
    .select({ userId: externalIdentities.userId })
    .from(externalIdentities)
    .where(and(eq(externalIdentities.issuer, claims.issuer), eq(externalIdentities.subject, claims.subject)));
  if (known) return known.userId;

  const email = claims.email ? normalizeEmail(claims.email) : undefined;
  const [sameEmail] = email ? await ctx.db.select({ id: users.id }).from(users).where(eq(users.email, email)) : [];
  let userId: string;
  if (sameEmail && claims.emailVerified) {
    userId = sameEmail.id;
  } else {
    const now = ctx.now();
    userId = ctx.newId();
    // A placeholder address keeps emails unique when the issuer gives none (or one taken locally).
    const placeholder = `ext-${createHash("sha256").update(`${claims.issuer}|${claims.subject}`).digest("hex").slice(0, 24)}@users.invalid`;
    await ctx.db.insert(users).values({
      id: userId,
      email: email && !sameEmail ? email : placeholder,
      displayName: claims.name ?? email?.split("@")[0] ?? "External user",
      createdAt: now,
      updatedAt: now,
    });
  }
  const [linked] = await ctx.db
    .insert(externalIdentities)
    .values({ issuer: claims.issuer, subject: claims.subject, userId })
    .onConflictDoNothing()
    .returning({ userId: externalIdentities.userId });
  if (!linked) {
    // A concurrent first sight won the race: use its user.
    const [winner] = await ctx.db
      .select({ userId: externalIdentities.userId })
      .from(externalIdentities)
      .where(and(eq(externalIdentities.issuer, claims.issuer), eq(externalIdentities.subject, claims.subject)));
    if (!winner) throw new Error("external identity vanished while linking");
    return winner.userId;
  }
  await recordAudit(ctx, { action: "user.external-linked", actorUserId: userId, targetType: "user", targetId: userId, details: { issuer: claims.issuer } });
  return userId;
}
