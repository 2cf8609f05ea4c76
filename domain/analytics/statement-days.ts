import { and, eq, inArray } from "drizzle-orm";
import type { Statement } from "../activity/statements.js";
import type { Executor } from "../db/client.js";
import { assessments, enrollments, lessons } from "../db/schema/index.js";
import { dayOf } from "./store.js";

// The course a lesson or assessment belongs to never changes (no operation moves content between courses),
// so each instance remembers it instead of asking PostgreSQL for every statement. Bounded; forgetting an entry
// only costs its lookup again.
const courseOfContent = new Map<string, string>();
const MAX_REMEMBERED = 50_000;

async function owningCourses(db: Executor, lessonIds: readonly string[], assessmentIds: readonly string[]): Promise<Map<string, string>> {
  const owner = new Map<string, string>();
  const unknown = (ids: readonly string[]) => ids.filter((id) => {
    const courseId = courseOfContent.get(id);
    if (courseId) owner.set(id, courseId);
    return !courseId;
  });
  const [lessonsToFind, assessmentsToFind] = [unknown(lessonIds), unknown(assessmentIds)];
  const found = [
    ...(lessonsToFind.length > 0 ? await db.select({ id: lessons.id, courseId: lessons.courseId }).from(lessons).where(inArray(lessons.id, lessonsToFind)) : []),
    ...(assessmentsToFind.length > 0 ? await db.select({ id: assessments.id, courseId: assessments.courseId }).from(assessments).where(inArray(assessments.id, assessmentsToFind)) : []),
  ];
  if (courseOfContent.size + found.length > MAX_REMEMBERED) courseOfContent.clear();
  for (const row of found) {
    owner.set(row.id, row.courseId);
    courseOfContent.set(row.id, row.courseId);
  }
  return owner;
}

/**
 * The (course, day) pairs a learner's statements show them active in. The course comes from the
 * statement (context, object) or from the lesson or assessment it is about; only courses the learner is
 * enrolled in count, so a client cannot inflate another course's figures. A timestamp in the future
 * (client clock ahead) counts for today. Pairs `alreadyMarked` answers true for are left out before the
 * enrollment check: their marker exists, so there is nothing to decide (in the steady state of a learner
 * working through a course, no query at all).
 */
export async function statementDays(
  db: Executor,
  learnerId: string,
  statements: readonly Statement[],
  now: Date,
  alreadyMarked: (courseId: string, date: string) => boolean = () => false,
): Promise<{ courseId: string; date: string }[]> {
  const direct = (st: Statement) => st.context?.courseId ?? st.object.courseId ?? (st.object.type === "course" ? st.object.id : undefined);
  const lessonIds = [...new Set(statements.filter((st) => !direct(st) && st.object.type === "lesson").map((st) => st.object.id))];
  const assessmentIds = [...new Set(statements.filter((st) => !direct(st) && st.object.type === "assessment").map((st) => st.object.id))];
  const owner = await owningCourses(db, lessonIds, assessmentIds);

  const today = dayOf(now);
  const pairs = statements.flatMap((st) => {
    const courseId = direct(st) ?? owner.get(st.object.id);
    const date = dayOf(st.timestamp) > today ? today : dayOf(st.timestamp);
    return courseId && !alreadyMarked(courseId, date) ? [{ courseId, date }] : [];
  });
  const courseIds = [...new Set(pairs.map((p) => p.courseId))];
  if (courseIds.length === 0) return [];
  const enrolled = new Set(
    (await db.select({ courseId: enrollments.courseId }).from(enrollments).where(and(eq(enrollments.userId, learnerId), eq(enrollments.status, "active"), inArray(enrollments.courseId, courseIds)))).map((e) => e.courseId),
  );
  const unique = new Map(pairs.filter((p) => enrolled.has(p.courseId)).map((p) => [`${p.courseId}|${p.date}`, p]));
  return [...unique.values()];
}
