import { and, eq, inArray } from "drizzle-orm";
import type { Statement } from "../activity/statements.js";
import type { Executor } from "../db/client.js";
import { assessments, enrollments, lessons } from "../db/schema/index.js";
import { dayOf } from "./store.js";

/**
 * The (course, day) pairs a learner's statements show them active in. The course comes from the
 * statement (context, object) or from the lesson or assessment it is about; only courses the learner is
 * enrolled in count, so a client cannot inflate another course's figures. A timestamp in the future
 * (client clock ahead) counts for today.
 */
export async function statementDays(db: Executor, learnerId: string, statements: readonly Statement[], now: Date): Promise<{ courseId: string; date: string }[]> {
  const direct = (st: Statement) => st.context?.courseId ?? st.object.courseId ?? (st.object.type === "course" ? st.object.id : undefined);
  const lessonIds = [...new Set(statements.filter((st) => !direct(st) && st.object.type === "lesson").map((st) => st.object.id))];
  const assessmentIds = [...new Set(statements.filter((st) => !direct(st) && st.object.type === "assessment").map((st) => st.object.id))];
  const owner = new Map<string, string>();
  if (lessonIds.length > 0) for (const l of await db.select({ id: lessons.id, courseId: lessons.courseId }).from(lessons).where(inArray(lessons.id, lessonIds))) owner.set(l.id, l.courseId);
  if (assessmentIds.length > 0) for (const a of await db.select({ id: assessments.id, courseId: assessments.courseId }).from(assessments).where(inArray(assessments.id, assessmentIds))) owner.set(a.id, a.courseId);

  const today = dayOf(now);
  const pairs = statements.flatMap((st) => {
    const courseId = direct(st) ?? owner.get(st.object.id);
    return courseId ? [{ courseId, date: dayOf(st.timestamp) > today ? today : dayOf(st.timestamp) }] : [];
  });
  const courseIds = [...new Set(pairs.map((p) => p.courseId))];
  if (courseIds.length === 0) return [];
  const enrolled = new Set(
    (await db.select({ courseId: enrollments.courseId }).from(enrollments).where(and(eq(enrollments.userId, learnerId), eq(enrollments.status, "active"), inArray(enrollments.courseId, courseIds)))).map((e) => e.courseId),
  );
  const unique = new Map(pairs.filter((p) => enrolled.has(p.courseId)).map((p) => [`${p.courseId}|${p.date}`, p]));
  return [...unique.values()];
}
