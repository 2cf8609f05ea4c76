import { and, asc, desc, eq, gt, inArray, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, enrollments, gradeCategories, gradeExcusals, grades, users } from "../db/schema/index.js";
import { csvRow } from "../shared/csv.js";
import { sectionsInView } from "../sections/staff-scope.js";
import { ok, type Result } from "../shared/result.js";
import { attendanceResultOf, attendanceResults } from "./attendance-result.js";
import { type CourseGrade, courseGrade } from "./course-grade.js";

export interface GradebookRow {
  userId: string;
  displayName: string;
  email: string;
  /** The account was deactivated: the learner stays in the gradebook with every result, marked. */
  inactive: boolean;
  /** Assessment id → the learner's current percent (null: not graded), or "excused". */
  results: Record<string, number | null | "excused">;
  /** The attendance rate counted in `attendanceCategory` (null: nothing counted yet); absent when attendance is not graded. */
  attendancePercent?: number | null;
  course: CourseGrade;
}

export interface Gradebook {
  assessments: { id: string; title: string; category: string }[];
  /** The category the attendance rate counts in, when the course's attendance policy grades attendance. */
  attendanceCategory: string | null;
  rows: GradebookRow[];
}

/** The staff gradebook: actively enrolled learners (deactivated accounts included, marked) in id order (limit + 1 rows for pagination) with every result and the course grade. */
export async function gradebook(db: Executor, courseId: string, q: { limit: number; afterUserId?: string; sectionIds?: readonly string[] | null; asOf: Date }): Promise<Gradebook> {
  const list = await db
    .select({ id: assessments.id, title: assessments.title, category: assessments.category })
    .from(assessments)
    .where(eq(assessments.courseId, courseId))
    .orderBy(asc(assessments.id));
  const learners = await db
    .select({ userId: users.id, displayName: users.displayName, email: users.email, inactive: sql<boolean>`${isNotNull(users.disabledAt)}` })
    .from(enrollments)
    .innerJoin(users, eq(users.id, enrollments.userId))
    .where(
      and(
        eq(enrollments.courseId, courseId),
        eq(enrollments.status, "active"),
        q.afterUserId ? gt(users.id, q.afterUserId) : undefined,
        q.sectionIds ? sql`${enrollments.sectionId} = any(${sql.param([...q.sectionIds])}::uuid[])` : undefined,
      ),
    )
    .orderBy(asc(users.id))
    .limit(q.limit + 1);
  const ids = learners.map((l) => l.userId);
  // The newest grade per learner and assessment (regrades add versions; the newest one counts).
  const gradeRows = ids.length
    ? await db
        .select({ userId: grades.userId, assessmentId: grades.assessmentId, percent: grades.percent, createdAt: grades.createdAt })
        .from(grades)
        .where(and(eq(grades.courseId, courseId), inArray(grades.userId, ids)))
        .orderBy(desc(grades.createdAt), desc(grades.version))
    : [];
  const excused = ids.length
    ? await db
        .select()
        .from(gradeExcusals)
        .where(
          and(
            inArray(gradeExcusals.userId, ids),
            inArray(
              gradeExcusals.assessmentId,
              list.map((a) => a.id).concat("00000000-0000-0000-0000-000000000000"),
            ),
          ),
        )
    : [];
  const categories = await db.select().from(gradeCategories).where(eq(gradeCategories.courseId, courseId));
  const attendance = (await attendanceResults(db, [courseId], ids, q.asOf)).get(courseId);
  const rows = learners.map((l) => {
    const results: GradebookRow["results"] = {};
    for (const a of list) {
      const isExcused = excused.some((e) => e.userId === l.userId && e.assessmentId === a.id);
      const g = gradeRows.find((r) => r.userId === l.userId && r.assessmentId === a.id);
      results[a.id] = isExcused ? "excused" : (g?.percent ?? null);
    }
    const course = courseGrade(
      [
        ...list.map((a) => ({ assessmentId: a.id, category: a.category, percent: typeof results[a.id] === "number" ? (results[a.id] as number) : null, excused: results[a.id] === "excused" })),
        ...attendanceResultOf(attendance, l.userId),
      ],
      categories,
    );
    return { ...l, results, ...(attendance ? { attendancePercent: attendance.percentOf.get(l.userId) ?? null } : {}), course };
  });
  return { assessments: list, attendanceCategory: attendance?.category ?? null, rows };
}

/**
 * The gradebook as a staff member sees it: the section asked for, or else their section scope (the whole course
 * when they have none). A section of another course is not found; one outside their scope is refused.
 */
export async function gradebookSeenBy(
  db: Executor,
  courseId: string,
  viewer: { userId: string; isAdmin: boolean },
  q: { limit: number; afterUserId?: string; section?: string; asOf: Date },
): Promise<Result<Gradebook, "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  return ok(await gradebook(db, courseId, { limit: q.limit, sectionIds: sectionIds.value, asOf: q.asOf, ...(q.afterUserId ? { afterUserId: q.afterUserId } : {}) }));
}

/**
 * Every learner's row the viewer may see, for an export that is never cut short: the sections in view are resolved
 * once, then learners are read `chunk` at a time (each chunk's grade query names its learners, so it stays bounded).
 */
export async function wholeGradebookSeenBy(
  db: Executor,
  courseId: string,
  viewer: { userId: string; isAdmin: boolean },
  q: { chunk: number; section?: string; asOf: Date },
): Promise<Result<Gradebook, "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  const rows: GradebookRow[] = [];
  let afterUserId: string | undefined;
  for (;;) {
    const page = await gradebook(db, courseId, { limit: q.chunk, sectionIds: sectionIds.value, asOf: q.asOf, ...(afterUserId ? { afterUserId } : {}) });
    // gradebook() reads limit + 1 learners: the extra one only says that another chunk follows.
    rows.push(...page.rows.slice(0, q.chunk));
    if (page.rows.length <= q.chunk) return ok({ ...page, rows });
    afterUserId = rows[rows.length - 1]!.userId;
  }
}

/**
 * RFC 4180 CSV: one row per learner, one column per assessment (and the attendance rate when it is graded), then
 * the course grade and whether the account is deactivated.
 */
export function gradebookCsv(book: Omit<Gradebook, "attendanceCategory"> & { attendanceCategory?: string | null }): string {
  const attendance = book.attendanceCategory ? [`Attendance (${book.attendanceCategory})`] : [];
  const header = ["userId", "displayName", "email", ...book.assessments.map((a) => `${a.title} (${a.category})`), ...attendance, "coursePercent", "inactive"];
  const lines = book.rows.map((r) =>
    csvRow([r.userId, r.displayName, r.email, ...book.assessments.map((a) => r.results[a.id] ?? null), ...(attendance.length ? [r.attendancePercent ?? null] : []), r.course.percent, String(r.inactive)]),
  );
  return csvRow(header) + lines.join("");
}
