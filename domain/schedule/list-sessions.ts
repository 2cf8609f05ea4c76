import { and, asc, eq, gt, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "../db/client.js";
import { classSessions, enrollments } from "../db/schema/index.js";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { sectionsInView } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkRange } from "./my-schedule.js";
import type { ScheduleErrorCode } from "./schedule.errors.js";
import { sessionColumns, type SessionView } from "./session-view.js";

export interface SessionQuery {
  from: Date;
  to: Date;
  /** staff: one section's sessions (and the whole course's) */
  sectionId?: string;
  /** keyset position from the cursor: the last [startsAt, id] of the previous page, checked here */
  after?: readonly unknown[];
  limit: number;
}

/**
 * A course's sessions overlapping [from, to), earliest first, cancelled ones included. Staff see those of their
 * section scope (or of the section asked for) and the whole course's; a learner sees the whole course's and their
 * own section's (the viewer's role is the request's, read once). Fetches `limit + 1` rows so the caller can tell whether there
 * is a next page. A position that is not a [timestamp, uuid] pair (a forged cursor) is INVALID_CURSOR.
 */
export async function courseSessions(db: Executor, courseId: string, viewer: CourseViewer, query: SessionQuery): Promise<Result<SessionView[], ScheduleErrorCode>> {
  const range = checkRange(query.from, query.to);
  if (!range.ok) return range;
  const position = query.after ? afterPosition(query.after) : undefined;
  if (position === null) return fail("INVALID_CURSOR", "Not a cursor this list issued.");
  let sectionFilter: SQL | undefined;
  if (await seesAsStaff(viewer, courseId)) {
    const inView = await sectionsInView(db, courseId, viewer, query.sectionId);
    if (!inView.ok) return inView;
    if (inView.value !== null) sectionFilter = or(isNull(classSessions.sectionId), inArray(classSessions.sectionId, inView.value));
  } else {
    const [own] = await db
      .select({ sectionId: enrollments.sectionId })
      .from(enrollments)
      .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, viewer.userId), eq(enrollments.status, "active")));
    if (!own) return fail("COURSE_NOT_FOUND");
    sectionFilter = own.sectionId ? or(isNull(classSessions.sectionId), eq(classSessions.sectionId, own.sectionId)) : isNull(classSessions.sectionId);
  }
  const after = position ? sql`(${classSessions.startsAt}, ${classSessions.id}) > (${position.startsAt.toISOString()}::timestamptz, ${position.id}::uuid)` : undefined;
  const rows = await db
    .select(sessionColumns)
    .from(classSessions)
    .where(and(eq(classSessions.courseId, courseId), lt(classSessions.startsAt, query.to), gt(classSessions.endsAt, query.from), sectionFilter, after))
    .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
    .limit(query.limit + 1);
  return ok(rows);
}

const positionSchema = z.tuple([z.iso.datetime({ offset: true }).transform((at) => new Date(at)), z.uuid()]);

/** A keyset position this list issued ([ISO startsAt, session id]); null for anything else. */
function afterPosition(position: readonly unknown[]): { startsAt: Date; id: string } | null {
  const parsed = positionSchema.safeParse(position);
  return parsed.success ? { startsAt: parsed.data[0], id: parsed.data[1] } : null;
}
