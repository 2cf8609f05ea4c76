import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, lessonCompletions, lessons, modules } from "../db/schema/index.js";

export type LockReason = "unlocks-later" | "earlier-lessons-first";

/** Where a lesson stands in its course's order: its module's position, then its own. */
export interface LessonPlace {
  id: string;
  moduleId: string;
  modulePosition: number;
  position: number;
  required: boolean;
  unlockAt: Date | null;
}

/**
 * The one lock rule, for any number of lessons at once. Why a learner cannot open a lesson yet, or null: its
 * unlock time is ahead, or the course is sequential and a required lesson before it (an earlier module, or
 * earlier in its own module) is not completed. `visible` is every lesson learners see in the course (neither it
 * nor its module hidden), `done` the ones this learner completed.
 */
export function lessonLocks(visible: readonly LessonPlace[], done: ReadonlySet<string>, sequential: boolean, now: Date): (lesson: LessonPlace) => LockReason | null {
  // Per module, the first pending required lesson; over the course, the first module holding one.
  let firstPendingModule = Infinity;
  const firstPendingIn = new Map<string, number>();
  for (const l of visible) {
    if (!l.required || done.has(l.id)) continue;
    firstPendingModule = Math.min(firstPendingModule, l.modulePosition);
    firstPendingIn.set(l.moduleId, Math.min(firstPendingIn.get(l.moduleId) ?? Infinity, l.position));
  }
  return (lesson) => {
    if (lesson.unlockAt && lesson.unlockAt > now) return "unlocks-later";
    if (!sequential) return null;
    const held = firstPendingModule < lesson.modulePosition || (firstPendingIn.get(lesson.moduleId) ?? Infinity) < lesson.position;
    return held ? "earlier-lessons-first" : null;
  };
}

/** A lesson's place, for queries that join `modules`. */
const lessonPlaceColumns = {
  id: lessons.id,
  moduleId: lessons.moduleId,
  modulePosition: modules.position,
  position: lessons.position,
  required: lessons.required,
  unlockAt: lessons.unlockAt,
};

/** Whether `userId` completed the lesson of the row, as a column of a query over `lessons`. */
export const completedBy = (userId: string) =>
  sql<boolean>`exists (select 1 from ${lessonCompletions} where ${lessonCompletions.lessonId} = ${lessons.id} and ${lessonCompletions.userId} = ${userId})`;

/** The lock of one lesson for a learner: `lessonLocks` over the course's visible lessons, read in two queries. */
export async function lessonLock(db: Executor, lesson: typeof lessons.$inferSelect, userId: string, now: Date): Promise<LockReason | null> {
  if (lesson.unlockAt && lesson.unlockAt > now) return "unlocks-later";
  const [course] = await db.select({ sequential: courses.sequentialProgress }).from(courses).where(eq(courses.id, lesson.courseId));
  if (!course?.sequential) return null;
  const rows = await db
    .select({ place: lessonPlaceColumns, done: completedBy(userId) })
    .from(lessons)
    .innerJoin(modules, eq(modules.id, lessons.moduleId))
    .where(and(eq(lessons.courseId, lesson.courseId), isNull(lessons.hiddenAt), isNull(modules.hiddenAt)));
  const done = new Set(rows.filter((r) => r.done).map((r) => r.place.id));
  const place = rows.find((r) => r.place.id === lesson.id)?.place ?? { ...lesson, modulePosition: await modulePosition(db, lesson.moduleId) };
  const lockOf = lessonLocks(
    rows.map((r) => r.place),
    done,
    true,
    now,
  );
  return lockOf(place);
}

/** Only for a lesson learners do not see (callers refuse those first): a visible one's place comes with the others. */
async function modulePosition(db: Executor, moduleId: string): Promise<number> {
  const [row] = await db.select({ position: modules.position }).from(modules).where(eq(modules.id, moduleId));
  return row?.position ?? 0;
}
