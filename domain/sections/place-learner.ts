import { and, eq, sql } from "drizzle-orm";
import { enrollments, sections } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { isSeatStatus, SEAT_STATUSES } from "./seat-statuses.js";
import type { SectionErrorCode } from "./sections.errors.js";

export interface Placement {
  enrollmentId: string;
  userId: string;
  sectionId: string | null;
}

/**
 * Puts a learner who holds a seat (active, or held for payment, offered or suspended) in a section of their course (null: in none). The section's row lock is taken before
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
    if (!enrollment || !isSeatStatus(enrollment.status)) return fail("ENROLLMENT_NOT_FOUND", "The course has no enrollment holding a seat with this id.");
    if (enrollment.sectionId === input.sectionId) return ok({ enrollmentId: input.enrollmentId, userId: enrollment.userId, sectionId: input.sectionId });
    if (section.capacity !== null) {
      const [taken] = await ctx.db.execute<{ n: number }>(
        sql`select count(*)::int as n from ${enrollments} where section_id = ${input.sectionId} and status in ${SEAT_STATUSES}`,
      );
      if ((taken?.n ?? 0) >= section.capacity) return fail("SECTION_FULL", `Section ${section.name} is full (${section.capacity} seats).`);
    }
  }
  // The old section is read from the row the update changes (a self-join sees the row as it was).
  const [updated] = await ctx.db.execute<{ user_id: string; previous_section_id: string | null }>(sql`
    update ${enrollments} e set section_id = ${input.sectionId}, updated_at = ${ctx.now().toISOString()}::timestamptz
    from ${enrollments} old
    where old.id = e.id and e.id = ${input.enrollmentId} and e.course_id = ${input.courseId} and e.status in ${SEAT_STATUSES}
    returning e.user_id, old.section_id as previous_section_id`);
  if (!updated) return fail("ENROLLMENT_NOT_FOUND", "The course has no enrollment holding a seat with this id.");
  if (updated.previous_section_id !== input.sectionId) {
    // Section fees are invoiced from this event (the invoices subscription).
    await recordEvent(ctx, {
      type: "enrollment.section-changed",
      aggregateType: "enrollment",
      aggregateId: input.enrollmentId,
      courseId: input.courseId,
      data: { enrollmentId: input.enrollmentId, courseId: input.courseId, userId: updated.user_id, sectionId: input.sectionId, previousSectionId: updated.previous_section_id },
    });
  }
  return ok({ enrollmentId: input.enrollmentId, userId: updated.user_id, sectionId: input.sectionId });
}
