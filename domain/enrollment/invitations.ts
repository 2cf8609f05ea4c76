import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { courses, invitations, users } from "../db/schema/index.js";
import { normalizeEmail } from "../identity/email.js";
import type { UnverifiedAccess } from "../identity/email-verification.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { enroll } from "./enroll.js";
import type { EnrollmentErrorCode } from "./enrollment.errors.js";
import type { EnrollmentView } from "./enrollment-view.js";
import { hashToken } from "../shared/token-hash.js";


export interface Invitation {
  id: string;
  courseId: string;
  email: string;
  expiresAt: Date;
}

/** Invites an address; the token goes out by email (the `enrollment.invited` event) and is stored only hashed. */
export async function inviteToCourse(
  ctx: DomainContext,
  input: { courseId: string; email: string; ttlHours: number },
): Promise<Result<Invitation, "COURSE_NOT_FOUND" | "COURSE_ARCHIVED">> {
  const [course] = await ctx.db.select({ status: courses.status }).from(courses).where(eq(courses.id, input.courseId));
  if (!course) return fail("COURSE_NOT_FOUND");
  if (course.status === "archived") return fail("COURSE_ARCHIVED");
  const token = randomBytes(24).toString("base64url");
  const now = ctx.now();
  const id = ctx.newId();
  const email = normalizeEmail(input.email);
  const expiresAt = new Date(now.getTime() + input.ttlHours * 3_600_000);
  await ctx.db.insert(invitations).values({
    id,
    courseId: input.courseId,
    email,
    tokenHash: hashToken(token),
    invitedByUserId: ctx.actor.userId,
    expiresAt,
    createdAt: now,
    updatedAt: now,
  });
  await recordEvent(ctx, {
    type: "enrollment.invited",
    aggregateType: "invitation",
    aggregateId: id,
    courseId: input.courseId,
    data: { invitationId: id, courseId: input.courseId, email, token, expiresAt: expiresAt.toISOString() },
  });
  return ok({ id, courseId: input.courseId, email, expiresAt });
}

/** The invited learner accepts: enrolled (or waitlisted) as by invitation, once, if the invitation is for their email address. */
export async function acceptInvitation(
  ctx: DomainContext,
  input: { token: string; userId: string; unverifiedAccess?: UnverifiedAccess },
): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  const [inv] = await ctx.db.select().from(invitations).where(eq(invitations.tokenHash, hashToken(input.token))).for("update");
  if (!inv) return fail("INVITATION_NOT_FOUND", "No such invitation.");
  if (inv.acceptedAt) return fail("INVITATION_USED", "This invitation was accepted already.");
  if (inv.expiresAt <= ctx.now()) return fail("INVITATION_EXPIRED", "The invitation has expired; ask for a new one.");
  const [user] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, input.userId));
  if (normalizeEmail(user?.email ?? "") !== inv.email) return fail("INVITATION_EMAIL_MISMATCH", "The invitation is for another email address.");
  const enrolled = await enroll(ctx, { courseId: inv.courseId, userId: input.userId, source: "invitation", ...(input.unverifiedAccess ? { unverifiedAccess: input.unverifiedAccess } : {}) });
  if (!enrolled.ok) return enrolled;
  await ctx.db.update(invitations).set({ acceptedAt: ctx.now(), acceptedByUserId: input.userId, updatedAt: ctx.now() }).where(eq(invitations.id, inv.id));
  return enrolled;
}
