import { users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { sendVerificationEmail, type VerificationOptions } from "./email-verification.js";
import { hashPassword, type ScryptParams } from "./password-hash.js";
import { toUserView, type UserView } from "./user-view.js";

export interface Registration {
  /** Already normalised (see emailSchema). */
  email: string;
  password: string;
  displayName: string;
}

/**
 * Creates an account whose address is not confirmed yet, and records the confirmation email (a single-use link:
 * sent directly, never in an event). The welcome email goes out on the `user.registered` event as before.
 */
export async function registerUser(ctx: DomainContext, input: Registration, kdf: ScryptParams, verification: VerificationOptions): Promise<Result<UserView, "EMAIL_TAKEN">> {
  // Hash first, on the pool and outside any transaction: the answer for a taken address then costs the same as for
  // a free one, and a burst of registrations never holds pool connections through the KDF.
  const passwordHash = await hashPassword(input.password, kdf);
  return ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const now = ctx.now();
    const [row] = await tx
      .insert(users)
      .values({ id: ctx.newId(), email: input.email, displayName: input.displayName, passwordHash, passwordChangedAt: now, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!row) return fail("EMAIL_TAKEN", "An account with this email address exists.");
    await recordAudit(txCtx, { action: "user.registered", actorUserId: row.id, targetType: "user", targetId: row.id });
    await sendVerificationEmail(txCtx, row, verification);
    await recordEvent(txCtx, {
      type: "user.registered",
      aggregateType: "user",
      aggregateId: row.id,
      data: { userId: row.id, email: row.email, displayName: row.displayName },
    });
    return ok(toUserView(row));
  });
}
