import { and, eq, sql } from "drizzle-orm";
import { enrollments, sections } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { SectionErrorCode } from "./sections.errors.js";

export interface Placement {
  enrollmentId: string;
  userId: string;
  sectionId: string | null;
}

/**
 * Puts an active learner in a section of their course (null: in none). The section's row lock is taken before
 * its learners are counted, so two placements racing for its last seat cannot both take it.
 */
export async function placeLearner(
  ctx: DomainContext,
  input: { courseId: string; enrollmentId: string; sectionId: string | null },
): Promise<Result<Placement, SectionErrorCode>> {
  if (input.sectionId !== null) {
    const [section] = await ctx.db
      .select({ name: sections.name, capacity: sections.capacity })
      .from(sections)
      .where(and(eq(sections.id, input.sectionId), eq(sections.courseId, input.courseId)))
      .for("update");
    if (!section) return fail("SECTION_NOT_FOUND");
    const [enrollment] = await ctx.db
      .select({ userId: enrollments.userId, status: enrollments.status, sectionId: enrollments.sectionId })
      .from(enrollments)
      .where(and(eq(enrollments.id, input.enrollmentId), eq(enrollments.courseId, input.courseId)));
    if (!enrollment || enrollment.status !== "active") return fail("ENROLLMENT_NOT_FOUND", "The course has no active enrollment with this id.");
    if (enrollment.sectionId === input.sectionId) return ok({ enrollmentId: input.enrollmentId, userId: enrollment.userId, sectionId: input.sectionId });
    if (section.capacity !== null) {
      const [taken] = await ctx.db.execute<{ n: number }>(
        sql`select count(*)::int as n from ${enrollments} where section_id = ${input.sectionId} and status = 'active'`,
      );
      if ((taken?.n ?? 0) >= section.capacity) return fail("SECTION_FULL", `Section ${section.name} is full (${section.capacity} seats).`);
    }
  }
  const [updated] = await ctx.db
    .update(enrollments)
    .set({ sectionId: input.sectionId, updatedAt: ctx.now() })
    .where(and(eq(enrollments.id, input.enrollmentId), eq(enrollments.courseId, input.courseId), eq(enrollments.status, "active")))
    .returning({ userId: enrollments.userId });
  if (!updated) return fail("ENROLLMENT_NOT_FOUND", "The course has no active enrollment with this id.");
  return ok({ enrollmentId: input.enrollmentId, userId: updated.userId, sectionId: input.sectionId });
}
