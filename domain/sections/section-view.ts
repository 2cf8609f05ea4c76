import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { enrollments, sections } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { SEAT_STATUSES } from "./seat-statuses.js";
import { type CourseViewer, isCourseStaffOrAdmin } from "./viewer.js";

export interface SectionView {
  id: string;
  courseId: string;
  name: string;
  /** Null: unlimited. */
  capacity: number | null;
  /** Active learners placed in the section. */
  learners: number;
  scheduleUrl: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const sectionViewColumns = {
  id: sections.id,
  courseId: sections.courseId,
  name: sections.name,
  capacity: sections.capacity,
  // Qualified by hand: drizzle writes a lone column unqualified in a single-table select, which the subquery would bind to e.id.
  learners: sql<number>`(select count(*)::int from ${enrollments} e where e.section_id = "sections"."id" and e.status in ${SEAT_STATUSES})`.mapWith(Number),
  scheduleUrl: sections.scheduleUrl,
  version: sections.version,
  createdAt: sections.createdAt,
  updatedAt: sections.updatedAt,
};

export async function findSection(db: Executor, courseId: string, sectionId: string): Promise<SectionView | null> {
  const [row] = await db.select(sectionViewColumns).from(sections).where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)));
  return row ?? null;
}

/** Every section of a course by name, or only `only` (a learner's own, a scoped grader's). */
export async function listSections(db: Executor, courseId: string, only?: readonly string[]): Promise<SectionView[]> {
  if (only && only.length === 0) return [];
  return db
    .select(sectionViewColumns)
    .from(sections)
    .where(and(eq(sections.courseId, courseId), only ? sql`${sections.id} = any(${sql.param([...only])}::uuid[])` : undefined))
    .orderBy(asc(sql`lower(${sections.name})`), asc(sections.id));
}

/** Staff and admins see every section of the course; a learner only the section they are in. */
export async function sectionsSeenBy(db: Executor, courseId: string, viewer: CourseViewer): Promise<SectionView[]> {
  if (isCourseStaffOrAdmin(viewer)) return listSections(db, courseId);
  const own = await db
    .select({ sectionId: enrollments.sectionId })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, viewer.userId), eq(enrollments.status, "active"), isNotNull(enrollments.sectionId)));
  return listSections(db, courseId, own.map((o) => o.sectionId as string));
}

export async function sectionSeenBy(db: Executor, courseId: string, sectionId: string, viewer: CourseViewer): Promise<Result<SectionView, "SECTION_NOT_FOUND">> {
  const seen = isCourseStaffOrAdmin(viewer) ? await findSection(db, courseId, sectionId) : (await sectionsSeenBy(db, courseId, viewer)).find((s) => s.id === sectionId);
  return seen ? ok(seen) : fail("SECTION_NOT_FOUND");
}
