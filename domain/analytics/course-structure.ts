import { and, asc, eq, gte, ne, or } from "drizzle-orm";
import { courseOutline } from "../catalog/content.js";
import type { Executor } from "../db/client.js";
import { assessments, courses } from "../db/schema/index.js";

/** What the figures are laid over: the course's visible lessons in course order and its assessments. */
export interface CourseStructure {
  courseId: string;
  passPercent: number;
  lessons: { lessonId: string; title: string; moduleTitle: string; required: boolean }[];
  assessments: { assessmentId: string; title: string }[];
}

export async function courseStructure(db: Executor, courseId: string): Promise<CourseStructure | null> {
  const [course] = await db.select({ passPercent: courses.passPercent }).from(courses).where(eq(courses.id, courseId));
  if (!course) return null;
  const ordered = (await courseOutline(db, courseId, false)).flatMap((o) => o.lessons.map((l) => ({ lessonId: l.id, title: l.title, moduleTitle: o.module.title, required: l.required })));
  const tests = await db.select({ assessmentId: assessments.id, title: assessments.title }).from(assessments).where(eq(assessments.courseId, courseId)).orderBy(asc(assessments.createdAt), asc(assessments.id));
  return { courseId, passPercent: course.passPercent, lessons: ordered, assessments: tests };
}

/** Courses the nightly rollup covers: every course past draft, except those archived before the window. */
export async function coursesToRollUp(db: Executor, windowStart: Date): Promise<string[]> {
  const rows = await db
    .select({ id: courses.id })
    .from(courses)
    .where(and(ne(courses.status, "draft"), or(ne(courses.status, "archived"), gte(courses.archivedAt, windowStart))))
    .orderBy(asc(courses.id));
  return rows.map((r) => r.id);
}
